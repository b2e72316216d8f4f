package consumer_test

import (
	"context"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/vitseg/vitseg/internal/testsupport/testenv"
)

// brokers are the addresses of the dev broker that TestMain starts for the
// examples; its topic vitseg.images holds one image reference.
var brokers []string

func TestMain(m *testing.M) {
	testenv.Main(m, func(tb testing.TB) {
		k := testenv.StartKafka(tb, testenv.WithTopics(testenv.Topic{Name: "vitseg.images"}))
		brokers = k.Brokers()
		w := &kafka.Writer{Addr: kafka.TCP(brokers...), Topic: "vitseg.images", RequiredAcks: kafka.RequireAll}
		defer w.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		ref := kafka.Message{Value: []byte(`{"bucket":"pets","key":"uploads/cat.jpg"}`)}
		if err := w.WriteMessages(ctx, ref); err != nil {
			tb.Fatalf("producing the example's reference: %v", err)
		}
	})
}
