package segformer

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	gomlx "github.com/gomlx/gomlx/ml/model"

	"github.com/vitseg/vitseg/internal/modeltest"
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

func TestSelectionIsAConvolutionWindow(t *testing.T) {
	tests := []struct{ in, k, stride, pad, wantOut int }{
		{128, 7, 4, 3, 32}, // stage 1 patch embedding
		{32, 3, 2, 1, 16},  // stages 2-4
		{32, 8, 8, 0, 4},   // spatial reduction 8
		{16, 3, 1, 1, 16},  // depthwise 3x3
	}
	for _, tc := range tests {
		flat, out := selection(tc.in, tc.k, tc.stride, tc.pad)
		if out != tc.wantOut {
			t.Fatalf("%+v: out %d, want %d", tc, out, tc.wantOut)
		}
		for j := range tc.k {
			for o := range out {
				ones := 0
				for i := range tc.in {
					if v := flat[(j*out+o)*tc.in+i]; v == 1 {
						ones++
						if i != o*tc.stride+j-tc.pad {
							t.Fatalf("%+v: S[%d][%d][%d] = 1", tc, j, o, i)
						}
					}
				}
				inside := o*tc.stride+j-tc.pad >= 0 && o*tc.stride+j-tc.pad < tc.in
				if (ones == 1) != inside {
					t.Fatalf("%+v: window %d of output %d has %d taps, inside=%v", tc, j, o, ones, inside)
				}
			}
		}
	}
}

func TestBilinearMatrix(t *testing.T) {
	tests := []struct {
		name    string
		in, out int
		row     int
		want    []float32
	}{
		// PyTorch F.interpolate(align_corners=False), x2: output 0 clamps to input 0; output 1 is 0.75*x0 + 0.25*x1.
		{"x2 first row clamps", 4, 8, 0, []float32{1, 0, 0, 0}},
		{"x2 second row", 4, 8, 1, []float32{0.75, 0.25, 0, 0}},
		{"x2 last row clamps", 4, 8, 7, []float32{0, 0, 0, 1}},
		{"x4 row 2", 2, 8, 2, []float32{0.875, 0.125}},
		{"identity", 3, 3, 1, []float32{0, 1, 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := bilinearMatrix(tc.in, tc.out)
			var sum float32
			for i, w := range tc.want {
				got := m[tc.row*tc.in+i]
				sum += got
				if math.Abs(float64(got-w)) > 1e-6 {
					t.Fatalf("row %d = %v, want %v", tc.row, m[tc.row*tc.in:(tc.row+1)*tc.in], tc.want)
				}
			}
			if math.Abs(float64(sum-1)) > 1e-6 {
				t.Errorf("row %d sums to %v, want 1", tc.row, sum)
			}
		})
	}
}

// randomSlice is deterministic noise for the reference tests.
func randomSlice(r *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = r.Float32()*2 - 1
	}
	return x
}

// TestConvMatchesDirectLoops runs the matrix-product convolutions on the ONNX Runtime backend against plain loops.
func TestConvMatchesDirectLoops(t *testing.T) {
	backend := modeltest.Backend(t)
	r := rand.New(rand.NewPCG(3, 4))
	tests := []struct {
		name                    string
		c, side, out, k, s, pad int
		depthwise               bool
	}{
		{"patch embedding 7/4", 3, 16, 5, 7, 4, 3, false},
		{"patch embedding 3/2", 4, 8, 6, 3, 2, 1, false},
		{"spatial reduction", 4, 8, 4, 4, 4, 0, false},
		{"depthwise 3x3", 4, 8, 4, 3, 1, 1, true},
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
			want, o := directConv(x, tc.c, tc.side, full, bias, tc.out, tc.k, tc.s, tc.pad)
			exec, err := gomlx.NewExec(backend, gomlx.NewStore(), func(_ *gomlx.Scope, xs, ks, bs *graph.Node) *graph.Node {
				if tc.depthwise {
					return depthwiseConv3x3(xs, ks, bs)
				}
				return conv2D(xs, ks, bs, tc.k, tc.s, tc.pad)
			})
			if err != nil {
				t.Fatal(err)
			}
			kdims := []int{tc.k, tc.k, tc.c, tc.out}
			if tc.depthwise {
				kdims = []int{3, 3, tc.c}
			}
			outs, err := exec.Call(tensors.FromFlatDataAndDimensions(x, 1, tc.c, tc.side, tc.side),
				tensors.FromFlatDataAndDimensions(kernel, kdims...), tensors.FromFlatDataAndDimensions(bias, tc.out))
			if err != nil {
				t.Fatal(err)
			}
			got := tensors.MustCopyFlatData[float32](outs[0])
			if len(got) != tc.out*o*o {
				t.Fatalf("%d outputs, want %d", len(got), tc.out*o*o)
			}
			for oc := range tc.out { // got is tokens [1, o*o, out], want images [out, o, o]
				for p := range o * o {
					if g, w := got[p*tc.out+oc], want[oc*o*o+p]; math.Abs(float64(g-w)) > 1e-4 {
						t.Fatalf("channel %d position %d = %v, direct convolution %v", oc, p, g, w)
					}
				}
			}
		})
	}
}
