package pipeline_test

import (
	"fmt"

	"github.com/vitseg/vitseg/pipeline"
)

// The mask of an image is stored under a key derived from the source key, its ETag and the model version, so
// that a replay of the same object version with the same model overwrites the same mask.
func ExampleMaskKey() {
	m := pipeline.MaskKey("masks/", "uploads/2026/cat.jpg", "08a83d66", "000003")
	fmt.Println(m.Key)
	fmt.Println(m.Form)
	// Output:
	// masks/uploads/2026/cat.jpg.08a83d66.000003.mask.png
	// derived
}

// New checks its dependencies before anything starts: a Kafka Reader and Writer (*consumer.Reader,
// *producer.Writer), an ObjectStore (NewS3Store), the reference Filter, the ONNX Runtime and a model source.
// Run then processes messages until its context ends (see stack_test.go for the full wiring).
func ExampleNew() {
	_, err := pipeline.New(pipeline.DefaultConfig(), pipeline.Deps{})
	fmt.Println(err)
	// Output:
	// pipeline: missing dependencies: Reader, Writer, Store, Filter, Runtime
}
