package registry_test

import (
	"testing"

	"github.com/vitseg/vitseg/internal/testsupport/testenv"
)

// The MinIO server that TestMain starts for the examples, with an empty
// bucket "models".
var s3Endpoint, s3AccessKey, s3SecretKey string

func TestMain(m *testing.M) {
	testenv.Main(m, func(tb testing.TB) {
		s := testenv.StartMinIO(tb)
		s.MakeBucket("models")
		s3Endpoint, s3AccessKey, s3SecretKey = s.Endpoint(), s.AccessKey(), s.SecretKey()
	})
}
