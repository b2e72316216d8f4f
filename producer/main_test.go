package producer_test

import (
	"testing"

	"github.com/vitseg/vitseg/internal/testsupport/testenv"
)

// brokers are the addresses of the dev broker that TestMain starts for the
// examples, with the topics vitseg.results and vitseg.deadletter.
var brokers []string

func TestMain(m *testing.M) {
	testenv.Main(m, func(tb testing.TB) {
		brokers = testenv.StartKafka(tb, testenv.WithTopics(
			testenv.Topic{Name: "vitseg.results"},
			testenv.Topic{Name: "vitseg.deadletter"},
		)).Brokers()
	})
}
