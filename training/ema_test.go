package training

import (
	"math"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"
	gomlx "github.com/gomlx/gomlx/ml/model"
)

func TestWeightAverage(t *testing.T) {
	store := gomlx.NewStore()
	v, err := store.RootScope().CreateVariable("w", tensors.FromFlatDataAndDimensions([]float32{0, 10}, 2))
	if err != nil {
		t.Fatal(err)
	}
	frozen, err := store.RootScope().CreateVariable("frozen", tensors.FromFlatDataAndDimensions([]float32{7}, 1))
	if err != nil {
		t.Fatal(err)
	}
	frozen.SetTrainable(false)
	set := func(vals ...float32) {
		if err := v.SetValue(tensors.FromFlatDataAndDimensions(vals, 2)); err != nil {
			t.Fatal(err)
		}
	}
	get := func() []float32 { return tensors.MustCopyFlatData[float32](v.MustValue()) }

	a := newWeightAverage(0.5)
	steps := []struct {
		weights []float32
		decay   float64 // min(0.5, (1+n)/(10+n)) for the n-th update
		want    []float32
	}{
		{[]float32{0, 10}, 0, []float32{0, 10}}, // the first update copies
		{[]float32{2, 0}, 2.0 / 11, []float32{2 * (1 - 2.0/11), 10 * 2.0 / 11}},
		{[]float32{4, 4}, 3.0 / 12, nil},
	}
	var shadow []float32
	for i, s := range steps {
		set(s.weights...)
		if err := a.update(store); err != nil {
			t.Fatal(err)
		}
		got := a.Shadow["/w"]
		if s.want == nil {
			s.want = []float32{float32(s.decay)*shadow[0] + float32(1-s.decay)*4, float32(s.decay)*shadow[1] + float32(1-s.decay)*4}
		}
		for j := range got {
			if math.Abs(float64(got[j]-s.want[j])) > 1e-6 {
				t.Fatalf("update %d: shadow %v, want %v", i+1, got, s.want)
			}
		}
		shadow = append(shadow[:0], got...)
	}
	if _, ok := a.Shadow["/frozen"]; ok {
		t.Error("a non-trainable variable was averaged")
	}
	// swap puts the average in the store and keeps the raw weights; a second swap restores them.
	if err := a.swap(store); err != nil {
		t.Fatal(err)
	}
	if got := get(); got[0] != shadow[0] || got[1] != shadow[1] {
		t.Errorf("after swap the store holds %v, want the average %v", got, shadow)
	}
	if err := a.swap(store); err != nil {
		t.Fatal(err)
	}
	if got := get(); got[0] != 4 || got[1] != 4 {
		t.Errorf("after two swaps the store holds %v, want the raw weights [4 4]", got)
	}
	// save and load round-trip the average.
	dir := t.TempDir()
	if err := a.save(dir); err != nil {
		t.Fatal(err)
	}
	b := newWeightAverage(0.5)
	if err := b.load(dir); err != nil {
		t.Fatal(err)
	}
	if b.Updates != 3 || b.Shadow["/w"][0] != shadow[0] || b.Shadow["/w"][1] != shadow[1] {
		t.Errorf("loaded %d updates, shadow %v; want 3, %v", b.Updates, b.Shadow["/w"], shadow)
	}
}
