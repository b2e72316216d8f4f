package inference_test

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/vitseg/vitseg/model/imaging"
	"github.com/vitseg/vitseg/model/inference"
)

func TestParseTTA(t *testing.T) {
	tests := []struct {
		in      string
		want    inference.TTA
		wantErr bool
	}{
		{"", inference.TTANone, false},
		{"none", inference.TTANone, false},
		{"flip", inference.TTAFlip, false},
		{"rotate", "", true},
		{"FLIP", "", true},
	}
	for _, tc := range tests {
		got, err := inference.ParseTTA(tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("ParseTTA(%q) = %q, %v; want %q, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
	rt, b := setup(t)
	if _, err := rt.Load(b, inference.Options{TTA: "rotate"}); err == nil {
		t.Error("Load accepted an unknown test-time augmentation")
	}
}

// mirrored returns planes (each side x side) with every row reversed.
func mirrored(planes []float32, side int) []float32 {
	out := make([]float32, len(planes))
	for i := range planes {
		row, x := i/side, i%side
		out[row*side+side-1-x] = planes[i]
	}
	return out
}

// TestTTAFlip: with --tta flip an image's mask is the arg-max of its logits plus the mirrored logits of its
// mirror image (checked against two plain runs), the same whatever else is in the batch, and mirroring the
// input mirrors the mask exactly.
func TestTTAFlip(t *testing.T) {
	rt, b := setup(t)
	plain, err := rt.Load(b, inference.Options{Device: inference.DeviceCPU})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	flip, err := rt.Load(b, inference.Options{Device: inference.DeviceCPU, TTA: inference.TTAFlip})
	if err != nil {
		t.Fatal(err)
	}
	defer flip.Close()
	if flip.TTA() != inference.TTAFlip || plain.TTA() != inference.TTANone {
		t.Fatalf("TTA() = %q and %q", flip.TTA(), plain.TTA())
	}
	c := plain.Config()
	r := rand.New(rand.NewPCG(8, 9))
	images := make([][]float32, 3)
	for i := range images {
		images[i] = make([]float32, plain.ImageLen())
		for j := range images[i] {
			images[i][j] = r.Float32()
		}
	}
	ctx := context.Background()
	got, err := flip.Masks(ctx, images)
	if err != nil {
		t.Fatal(err)
	}
	for i, img := range images {
		logits, err := plain.Run(ctx, slices.Concat(img, mirrored(img, c.ImageSize)), 2)
		if err != nil {
			t.Fatal(err)
		}
		own, back := logits[:plain.LogitsLen()], mirrored(logits[plain.LogitsLen():], c.ImageSize)
		for j := range own {
			own[j] += back[j]
		}
		want, err := imaging.MaskFromLogits(own, c.Classes, c.ImageSize, c.ImageSize)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got[i].Pix, want.Pix) {
			t.Errorf("image %d: TTA mask differs from the sum of the two views' logits", i)
		}
		alone, err := flip.Masks(ctx, [][]float32{img})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(alone[0].Pix, got[i].Pix) {
			t.Errorf("image %d: TTA mask depends on the rest of the batch", i)
		}
		mirror, err := flip.Masks(ctx, [][]float32{mirrored(img, c.ImageSize)})
		if err != nil {
			t.Fatal(err)
		}
		wantMirror := make([]uint8, len(got[i].Pix))
		for p, v := range got[i].Pix {
			y, x := p/c.ImageSize, p%c.ImageSize
			wantMirror[y*c.ImageSize+c.ImageSize-1-x] = v
		}
		if !slices.Equal(mirror[0].Pix, wantMirror) {
			t.Errorf("image %d: the mask of the mirror image is not the mirrored mask", i)
		}
	}
	plainMasks, err := plain.Masks(ctx, images)
	if err != nil {
		t.Fatal(err)
	}
	differ := 0
	for i := range images {
		for p := range plainMasks[i].Pix {
			if plainMasks[i].Pix[p] != got[i].Pix[p] {
				differ++
			}
		}
	}
	t.Logf("TTA changed %d of %d pixels", differ, len(images)*c.ImageSize*c.ImageSize)
	if differ == 0 {
		t.Error("TTA flip changed no pixel of a random-weight model on noise: the mirror view is not used")
	}
}
