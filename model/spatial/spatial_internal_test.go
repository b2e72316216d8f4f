package spatial

import (
	"math"
	"testing"
)

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
