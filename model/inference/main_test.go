package inference_test

import (
	"path/filepath"
	"testing"

	"github.com/vitseg/vitseg/internal/testsupport/modeltest"
	"github.com/vitseg/vitseg/internal/testsupport/testenv"
	"github.com/vitseg/vitseg/model"
)

// What TestMain prepares for the examples: a freshly exported tiny model
// (random weights, version 000001) and a photo of the Oxford-IIIT Pet sample.
var modelFile, photoFile string

func TestMain(m *testing.M) {
	testenv.Main(m, func(tb testing.TB) {
		modelFile = modeltest.WriteFile(tb, modeltest.Export(tb, model.PresetTiny, "000001", 3))
		photoFile = filepath.Join(modeltest.DatasetDir(tb), "images", "Abyssinian_1.jpg")
	})
}
