package pipeline_test

import (
	"path/filepath"
	"testing"

	"github.com/vitseg/vitseg/internal/testsupport/modeltest"
	"github.com/vitseg/vitseg/internal/testsupport/testenv"
	"github.com/vitseg/vitseg/model"
)

// The stack that TestMain starts for the examples: a dev broker with the
// topics vitseg.images, vitseg.results and vitseg.deadletter, and a MinIO
// server whose bucket "pets" announces each new object under uploads/ on
// vitseg.images; a freshly exported tiny model (random weights, version
// 000001) and a photo of the Oxford-IIIT Pet sample.
var (
	brokers                              []string
	s3Endpoint, s3AccessKey, s3SecretKey string
	modelFile, photoFile                 string
)

func TestMain(m *testing.M) {
	testenv.Main(m, func(tb testing.TB) {
		k := testenv.StartKafka(tb, testenv.WithTopics(
			testenv.Topic{Name: "vitseg.images"},
			testenv.Topic{Name: "vitseg.results"},
			testenv.Topic{Name: "vitseg.deadletter"}))
		brokers = k.Brokers()
		s := testenv.StartMinIO(tb, testenv.WithKafkaNotify(brokers, "vitseg.images"))
		s.MakeBucket("pets")
		s.NotifyObjectCreated("pets", "uploads/")
		s3Endpoint, s3AccessKey, s3SecretKey = s.Endpoint(), s.AccessKey(), s.SecretKey()
		modelFile = modeltest.WriteFile(tb, modeltest.Export(tb, model.PresetTiny, "000001", 1))
		photoFile = filepath.Join(modeltest.DatasetDir(tb), "images", "Abyssinian_1.jpg")
	})
}
