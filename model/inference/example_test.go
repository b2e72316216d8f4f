package inference_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/vitseg/vitseg/model/imaging"
	"github.com/vitseg/vitseg/model/inference"
)

// Open ONNX Runtime once per process, load an exported model and segment a photo. The mask has the photo's
// size; its class shares (Stats.Fractions, indexed like the model's class names) sum to 1.
func ExampleSession_Segment() {
	lib, err := inference.ResolveLibrary("") // VITSEG_ORT_LIB, else the library scripts/setup.sh installed
	if err != nil {
		log.Fatal(err)
	}
	rt, err := inference.Open(lib)
	if err != nil {
		log.Fatal(err)
	}
	sess, err := rt.LoadFile(modelFile, inference.Options{Device: inference.DeviceCPU})
	if err != nil {
		log.Fatal(err)
	}
	defer sess.Close()
	meta := sess.Metadata()
	fmt.Printf("model %s, %dx%d input, classes %v, on %s\n",
		meta.Version, meta.Config.ImageSize, meta.Config.ImageSize, meta.ClassNames, sess.Provider())

	photo, err := os.ReadFile(photoFile)
	if err != nil {
		log.Fatal(err)
	}
	img, err := inference.Prepare(photo, meta.Config.ImageSize, imaging.DecodeOptions{})
	if err != nil {
		log.Fatal(err)
	}
	segs, err := sess.Segment(context.Background(), []*inference.Prepared{img})
	if err != nil {
		log.Fatal(err)
	}
	seg := segs[0]
	total := 0.0
	for _, f := range seg.Stats.Fractions {
		total += f
	}
	fmt.Printf("mask %dx%d, %d class shares summing to %.2f\n", seg.Mask.Width, seg.Mask.Height, len(seg.Stats.Fractions), total)
	// Output:
	// model 000001, 128x128 input, classes [pet background border], on CPUExecutionProvider
	// mask 600x400, 3 class shares summing to 1.00
}
