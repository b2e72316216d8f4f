package spatial_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	gomlx "github.com/gomlx/gomlx/ml/model"

	"github.com/vitseg/vitseg/internal/testsupport/modeltest"
	"github.com/vitseg/vitseg/model/spatial"
)

// directConv is a plain-loop nn.Conv2d (square images, zero padding) with kernel [k, k, C, out] and bias.
func directConv(x []float32, c, side int, kernel, bias []float32, out, k, stride, pad int) ([]float32, int) {
	o := (side+2*pad-k)/stride + 1
	y := make([]float32, out*o*o)
	for oc := range out {
		for oy := range o {
			for ox := range o {
				sum := bias[oc]
				for j := range k {
					for l := range k {
						iy, ix := oy*stride+j-pad, ox*stride+l-pad
						if iy < 0 || ix < 0 || iy >= side || ix >= side {
							continue
						}
						for ic := range c {
							sum += x[(ic*side+iy)*side+ix] * kernel[((j*k+l)*c+ic)*out+oc]
						}
					}
				}
				y[(oc*o+oy)*o+ox] = sum
			}
		}
	}
	return y, o
}

// randomSlice is deterministic noise for the reference tests.
func randomSlice(r *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = r.Float32()*2 - 1
	}
	return x
}

// TestConvMatchesDirectLoops runs both convolutions (matrix products and native) on the ONNX Runtime backend
// against plain loops.
func TestConvMatchesDirectLoops(t *testing.T) {
	backend := modeltest.Backend(t)
	r := rand.New(rand.NewPCG(3, 4))
	tests := []struct {
		name                    string
		c, side, out, k, s, pad int
		depthwise, noBias       bool
	}{
		{"patch embedding 7/4", 3, 16, 5, 7, 4, 3, false, false},
		{"patch embedding 3/2", 4, 8, 6, 3, 2, 1, false, false},
		{"spatial reduction", 4, 8, 4, 4, 4, 0, false, false},
		{"depthwise 3x3", 4, 8, 4, 3, 1, 1, true, false},
		{"ViT conv stem 3x3/2, no bias", 3, 16, 4, 3, 2, 1, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x := randomSlice(r, tc.c*tc.side*tc.side)
			bias := randomSlice(r, tc.out)
			var kernel, full []float32
			if tc.depthwise {
				kernel = randomSlice(r, 9*tc.c)
				full = make([]float32, 9*tc.c*tc.c) // the depthwise kernel as a dense one, zero off the diagonal
				for j := range 9 {
					for c := range tc.c {
						full[(j*tc.c+c)*tc.c+c] = kernel[j*tc.c+c]
					}
				}
			} else {
				kernel = randomSlice(r, tc.k*tc.k*tc.c*tc.out)
				full = kernel
			}
			if tc.noBias {
				clear(bias) // the reference's bias; the graph gets none
			}
			want, o := directConv(x, tc.c, tc.side, full, bias, tc.out, tc.k, tc.s, tc.pad)
			kdims := []int{tc.k, tc.k, tc.c, tc.out}
			if tc.depthwise {
				kdims = []int{3, 3, tc.c}
			}
			convs := map[string]spatial.Conv2DFunc{"matrix products": spatial.Conv2D, "native": spatial.NativeConv2D}
			if tc.depthwise {
				convs = map[string]spatial.Conv2DFunc{"matrix products": func(x, k, b *graph.Node, _, _, _ int) *graph.Node {
					return spatial.DepthwiseConv3x3(x, k, b)
				}}
			}
			for name, conv := range convs {
				exec, err := gomlx.NewExec(backend, gomlx.NewStore(), func(_ *gomlx.Scope, xs, ks, bs *graph.Node) *graph.Node {
					if tc.noBias {
						bs = nil
					}
					return conv(xs, ks, bs, tc.k, tc.s, tc.pad)
				})
				if err != nil {
					t.Fatal(err)
				}
				outs, err := exec.Call(tensors.FromFlatDataAndDimensions(x, 1, tc.c, tc.side, tc.side),
					tensors.FromFlatDataAndDimensions(kernel, kdims...), tensors.FromFlatDataAndDimensions(bias, tc.out))
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				got := tensors.MustCopyFlatData[float32](outs[0])
				if len(got) != tc.out*o*o {
					t.Fatalf("%s: %d outputs, want %d", name, len(got), tc.out*o*o)
				}
				for oc := range tc.out { // got is tokens [1, o*o, out], want images [out, o, o]
					for p := range o * o {
						if g, w := got[p*tc.out+oc], want[oc*o*o+p]; math.Abs(float64(g-w)) > 1e-4 {
							t.Fatalf("%s: channel %d position %d = %v, direct convolution %v", name, oc, p, g, w)
						}
					}
				}
			}
		})
	}
}
