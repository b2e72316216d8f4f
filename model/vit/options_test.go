package vit_test

import (
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	gomlx "github.com/gomlx/gomlx/ml/model"

	"github.com/vitseg/vitseg/model/vit"
)

// TestDropPath: in training, each example is either dropped (zero) or scaled by 1/(1-rate); in inference it is
// the identity.
func TestDropPath(t *testing.T) {
	_, backend := openRuntime(t)
	const rate, batch = 0.5, 64
	tests := []struct {
		name     string
		training bool
	}{{"inference is the identity", false}, {"training drops or scales whole examples", true}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			store := gomlx.NewStore()
			exec, err := gomlx.NewExec(backend, store, func(scope *gomlx.Scope, x *graph.Node) *graph.Node {
				if tc.training {
					store.SetTraining(x.Graph(), true)
				}
				// Doubled: an output that is the parameter itself would alias the donated input buffer.
				return graph.MulScalar(vit.DropPath(scope, x, rate), 2)
			})
			if err != nil {
				t.Fatal(err)
			}
			ones := make([]float32, batch*3*2)
			for i := range ones {
				ones[i] = 1
			}
			outs, err := exec.Call(tensors.FromFlatDataAndDimensions(ones, batch, 3, 2))
			if err != nil {
				t.Fatal(err)
			}
			y := tensors.MustCopyFlatData[float32](outs[0])
			for i := range y {
				y[i] /= 2
			}
			dropped := 0
			for e := range batch {
				ex := y[e*6 : (e+1)*6]
				want := ex[0]
				if !tc.training && want != 1 || tc.training && want != 0 && want != 1/(1-rate) {
					t.Fatalf("example %d value %v", e, want)
				}
				for _, v := range ex {
					if v != want {
						t.Fatalf("example %d not dropped as a whole: %v", e, ex)
					}
				}
				if want == 0 {
					dropped++
				}
			}
			if tc.training && (dropped < batch/8 || dropped > batch*7/8) {
				t.Errorf("%d of %d examples dropped at rate %g", dropped, batch, rate)
			}
		})
	}
}
