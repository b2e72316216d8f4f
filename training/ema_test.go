package training

import (
	"math"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"
	gomlx "github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train/optimizer"
)

func TestWeightAverage(t *testing.T) {
	store := gomlx.NewStore()
	v, err := store.RootScope().CreateVariable("w", tensors.FromFlatDataAndDimensions([]float32{0, 10}, 2))
	if err != nil {
		t.Fatal(err)
	}
	stat, err := store.RootScope().In("batch_norm").CreateVariable("mean", tensors.FromFlatDataAndDimensions([]float32{7}, 1))
	if err != nil {
		t.Fatal(err)
	}
	stat.SetTrainable(false) // as BatchNorm's running statistics
	opt, err := store.RootScope().In(optimizer.Scope).CreateVariable("m", tensors.FromFlatDataAndDimensions([]float32{1}, 1))
	if err != nil {
		t.Fatal(err)
	}
	// Adam keeps its moments and step counter under the root scope AdamOptimizer, not under optimizers.
	moment, err := store.RootScope().In(optimizer.AdamDefaultScope).In("w").CreateVariable("w_1st_moment",
		tensors.FromFlatDataAndDimensions([]float32{3, 3}, 2))
	if err != nil {
		t.Fatal(err)
	}
	set := func(vals ...float32) {
		if err := v.SetValue(tensors.FromFlatDataAndDimensions(vals, 2)); err != nil {
			t.Fatal(err)
		}
		// The statistic follows the first weight + 7, the optimizer state the second.
		if err := stat.SetValue(tensors.FromFlatDataAndDimensions([]float32{vals[0] + 7}, 1)); err != nil {
			t.Fatal(err)
		}
		if err := opt.SetValue(tensors.FromFlatDataAndDimensions([]float32{vals[1]}, 1)); err != nil {
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
		if bn := a.Shadow["/batch_norm/mean"]; len(bn) != 1 || math.Abs(float64(bn[0]-(got[0]+7))) > 1e-5 {
			t.Fatalf("update %d: BatchNorm statistic's shadow %v, want [%v] (the average of the statistic)", i+1, bn, got[0]+7)
		}
		shadow = append(shadow[:0], got...)
	}
	if _, ok := a.Shadow["/"+optimizer.Scope+"/m"]; ok {
		t.Error("an optimizer variable was averaged")
	}
	if _, ok := a.Shadow[moment.Path()]; ok {
		t.Errorf("Adam's moment %s was averaged", moment.Path())
	}
	// swap puts the average in the store and keeps the raw weights; a second swap restores them.
	if err := a.swap(store); err != nil {
		t.Fatal(err)
	}
	if got := get(); got[0] != shadow[0] || got[1] != shadow[1] {
		t.Errorf("after swap the store holds %v, want the average %v", got, shadow)
	}
	if got := tensors.MustCopyFlatData[float32](stat.MustValue())[0]; math.Abs(float64(got-(shadow[0]+7))) > 1e-5 {
		t.Errorf("after swap the BatchNorm statistic is %v, want its average %v", got, shadow[0]+7)
	}
	if err := a.swap(store); err != nil {
		t.Fatal(err)
	}
	if got := get(); got[0] != 4 || got[1] != 4 {
		t.Errorf("after two swaps the store holds %v, want the raw weights [4 4]", got)
	}
	if got := tensors.MustCopyFlatData[float32](stat.MustValue())[0]; got != 11 {
		t.Errorf("after two swaps the BatchNorm statistic is %v, want the raw 11", got)
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
