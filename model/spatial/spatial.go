// Package spatial holds the image operations that vitseg's networks share: convolutions, bilinear resizing,
// BatchNorm2d, a per-pixel channel norm, ReLU and the conversions between images [B, C, H, W] and tokens [B, H*W, C].
//
// They are written as products with constant selection or interpolation matrices, one per image axis, instead of
// GoMLX's Convolve and Interpolate: GoMLX's ONNX Runtime backend, on which vitseg trains, cannot differentiate a
// strided convolution (the input gradient needs input dilation, which ONNX Conv lacks) nor a grouped one (the
// kernel gradient needs batch grouping), and a product of matrices exports and differentiates everywhere.
// Graphs that are not differentiated (inference, export) take the native convolution instead (ConvFor).
package spatial

import (
	"math"
	"slices"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/layers/norm"
	gomlx "github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"
)

// selection returns the constant [k, out, in] matrices of a 1-D convolution window along an axis of length in
// with kernel k, stride and padding: S[j][o][i] = 1 where i = o*stride + j - pad (zero padding elsewhere).
func selection(in, k, stride, pad int) (flat []float32, out int) {
	out = (in+2*pad-k)/stride + 1
	flat = make([]float32, k*out*in)
	for j := range k {
		for o := range out {
			if i := o*stride + j - pad; i >= 0 && i < in {
				flat[(j*out+o)*in+i] = 1
			}
		}
	}
	return flat, out
}

// matmulLast multiplies the last axis of x [B, ..., in] by the constant-or-variable matrix m [in, out], as the
// one product layout ("bti,io->bto") that GoMLX's ONNX backend lowers for every operand rank (some other einsum
// layouts fail ONNX Runtime's shape inference there).
func matmulLast(x, m *graph.Node) *graph.Node {
	d := x.Shape().Dimensions
	in, out := d[len(d)-1], m.Shape().Dimensions[1]
	t := 1
	for _, v := range d[1 : len(d)-1] {
		t *= v
	}
	y := graph.Einsum("bti,io->bto", graph.Reshape(x, d[0], t, in), m)
	return graph.Reshape(y, append(slices.Clone(d[:len(d)-1]), out)...)
}

// selectionMatrix is selection as the [in, k*out] matrix that gathers the k taps of every output position.
func selectionMatrix(g *graph.Graph, dtype dtypes.DType, in, k, stride, pad int) (*graph.Node, int) {
	flat, out := selection(in, k, stride, pad)
	s := graph.Reshape(graph.ConstAsDType(g, dtype, flat), k*out, in)
	return graph.TransposeAllAxes(s, 1, 0), out
}

// windows gathers the k x k windows of images x [B, C, H, W] (square): [B, Ho, Wo, ky, kx, C].
func windows(x *graph.Node, k, stride, pad int) *graph.Node {
	d := x.Shape().Dimensions
	b, c, side := d[0], d[1], d[2]
	s, out := selectionMatrix(x.Graph(), x.DType(), side, k, stride, pad)
	y := graph.Reshape(matmulLast(x, s), b, c, side, k, out)  // [B, C, H, kx, Wo]
	y = graph.TransposeAllAxes(y, 0, 1, 3, 4, 2)              // [B, C, kx, Wo, H]
	y = graph.Reshape(matmulLast(y, s), b, c, k, out, k, out) // [B, C, kx, Wo, ky, Ho]
	return graph.TransposeAllAxes(y, 0, 5, 3, 4, 2, 1)        // [B, Ho, Wo, ky, kx, C]
}

// Conv2D is nn.Conv2d(C, out, k, stride, padding=pad) on x [B, C, H, W]; kernel [k, k, C, out], bias [out] or
// nil for none. It returns tokens [B, Ho*Wo, out].
func Conv2D(x, kernel, bias *graph.Node, k, stride, pad int) *graph.Node {
	w := windows(x, k, stride, pad)
	d := w.Shape().Dimensions
	kd := kernel.Shape().Dimensions
	patches := graph.Reshape(w, d[0], d[1]*d[2], k*k*d[5])
	return addBias(graph.Einsum("bti,io->bto", patches, graph.Reshape(kernel, k*k*kd[2], kd[3])), bias)
}

// addBias adds bias [C] (nil: none) to tokens y [B, T, C].
func addBias(y, bias *graph.Node) *graph.Node {
	if bias == nil {
		return y
	}
	return graph.Add(y, graph.ExpandAxes(bias, 0, 1))
}

// Conv2DFunc is the signature of Conv2D and NativeConv2D.
type Conv2DFunc func(x, kernel, bias *graph.Node, k, stride, pad int) *graph.Node

// ConvFor returns the convolution to build a graph with: Conv2D for a graph that will be differentiated (a
// training step), NativeConv2D otherwise (inference, export), the same function computed by ONNX Conv, which
// serves several times faster than the matrix products.
func ConvFor(training bool) Conv2DFunc {
	if training {
		return Conv2D
	}
	return NativeConv2D
}

// NativeConv2D is Conv2D as one GoMLX convolution (ONNX Conv once exported): same arguments, same result; its
// gradient is what GoMLX's ONNX backend lacks, so it is for graphs that are not differentiated.
func NativeConv2D(x, kernel, bias *graph.Node, k, stride, pad int) *graph.Node {
	return addBias(ImageToTokens(convolve(x, kernel, stride, pad)), bias)
}

// ConvImage is nn.Conv2d(C, out, k, stride=1, padding=k/2) on images x [B, C, H, W] (k odd), kernel
// [k, k, C, out], bias [out] or nil; it returns images [B, out, H, W]. One native convolution: unlike a strided
// one, GoMLX's ONNX backend differentiates it, so training graphs use it too.
func ConvImage(x, kernel, bias *graph.Node, k int) *graph.Node {
	y := convolve(x, kernel, 1, k/2)
	if bias == nil {
		return y
	}
	return graph.Add(y, graph.ExpandAxes(bias, 0, 2, 3))
}

// convolve is one GoMLX convolution of images x [B, C, H, W] by kernel [k, k, C, out] with zero padding pad:
// images [B, out, Ho, Wo].
func convolve(x, kernel *graph.Node, stride, pad int) *graph.Node {
	return graph.Convolve(x, kernel).AxesConfig(graph.ConvolveAxesConfig{
		InputBatch: 0, InputChannels: 1, InputSpatial: []int{2, 3},
		KernelSpatial: []int{0, 1}, KernelInputChannels: 2, KernelOutputChannels: 3,
		OutputBatch: 0, OutputChannels: 1, OutputSpatial: []int{2, 3},
	}).Strides(stride).PaddingPerDim([][2]int{{pad, pad}, {pad, pad}}).Done()
}

// DepthwiseConv3x3 is nn.Conv2d(C, C, 3, padding=1, groups=C) with bias on x [B, C, H, W]; kernel [3, 3, C]. It
// returns tokens [B, H*W, C].
func DepthwiseConv3x3(x, kernel, bias *graph.Node) *graph.Node {
	w := windows(x, 3, 1, 1) // [B, H, W, 3, 3, C]
	d := w.Shape().Dimensions
	y := graph.ReduceSum(graph.Mul(w, graph.ExpandAxes(kernel, 0, 1, 2)), 3, 4) // [B, H, W, C]
	return addBias(graph.Reshape(y, d[0], d[1]*d[2], d[5]), bias)
}

// bilinearMatrix is the [out, in] matrix of 1-D linear interpolation as PyTorch's
// F.interpolate(mode="bilinear", align_corners=False) computes it.
func bilinearMatrix(in, out int) []float32 {
	m := make([]float32, out*in)
	scale := float64(in) / float64(out)
	for o := range out {
		src := max((float64(o)+0.5)*scale-0.5, 0)
		i0 := min(int(math.Floor(src)), in-1)
		i1 := min(i0+1, in-1)
		w1 := float32(src - float64(i0))
		m[o*in+i0] += 1 - w1
		m[o*in+i1] += w1
	}
	return m
}

// Resize upsamples (or downsamples) images x [B, C, H, W] (square) bilinearly to size x size.
func Resize(x *graph.Node, size int) *graph.Node {
	in := x.Shape().Dimensions[2]
	if in == size {
		return x
	}
	m := graph.Reshape(graph.ConstAsDType(x.Graph(), x.DType(), bilinearMatrix(in, size)), size, in)
	m = graph.TransposeAllAxes(m, 1, 0)          // [in, size]
	x = matmulLast(x, m)                         // [B, C, H, size]
	x = graph.TransposeAllAxes(x, 0, 1, 3, 2)    // [B, C, size, H]
	x = matmulLast(x, m)                         // [B, C, size(x), size(y)]
	return graph.TransposeAllAxes(x, 0, 1, 3, 2) // [B, C, y, x]
}

// TokensToImage turns tokens [B, side*side, C] into images [B, C, side, side].
func TokensToImage(x *graph.Node, side int) *graph.Node {
	d := x.Shape().Dimensions
	return graph.TransposeAllAxes(graph.Reshape(x, d[0], side, side, d[2]), 0, 3, 1, 2)
}

// ImageToTokens turns images [B, C, H, W] into tokens [B, H*W, C], the inverse of TokensToImage.
func ImageToTokens(x *graph.Node) *graph.Node {
	d := x.Shape().Dimensions
	return graph.Reshape(graph.TransposeAllAxes(x, 0, 2, 3, 1), d[0], d[2]*d[3], d[1])
}

// BatchNorm2D is nn.BatchNorm2d(C) with PyTorch's defaults (momentum 0.1, i.e. running = 0.9*running +
// 0.1*batch; eps 1e-5; affine) on images x [B, C, H, W]: batch statistics while training, the running ones
// otherwise, computed by the graph (not the backend's inference op) so that it exports the same everywhere.
func BatchNorm2D(scope *gomlx.Scope, x *graph.Node) *graph.Node {
	return norm.BatchNorm(scope, x, 1).CurrentScope().Momentum(0.9).Epsilon(1e-5).UseBackendInference(false).Done()
}

// ChannelNorm normalises images x [B, C, H, W] over the channels of each pixel (LayerNorm2d, as ConvNeXt; eps
// 1e-5), with a learned gain and offset per channel: no batch statistics, so training and inference compute the
// same.
func ChannelNorm(scope *gomlx.Scope, x *graph.Node) *graph.Node {
	g := x.Graph()
	c := x.Shape().Dimensions[1]
	centred := graph.Sub(x, graph.ReduceAndKeep(x, graph.ReduceMean, 1))
	variance := graph.ReduceAndKeep(graph.Square(centred), graph.ReduceMean, 1)
	y := graph.Div(centred, graph.Sqrt(graph.AddScalar(variance, 1e-5)))
	gain := scope.WithInitializer(initializer.One).VariableWithShape("gain", shapes.Make(x.DType(), c)).NodeValue(g)
	offset := scope.WithInitializer(initializer.Zero).VariableWithShape("offset", shapes.Make(x.DType(), c)).NodeValue(g)
	return graph.Add(graph.Mul(y, graph.ExpandAxes(gain, 0, 2, 3)), graph.ExpandAxes(offset, 0, 2, 3))
}

// ReLU is max(x, 0) written as (x+|x|)/2, exactly: GoMLX's Relu compares with ZerosLike(x), a constant
// broadcast to x's shape with its batch size, which ONNX cannot keep once the batch axis is made dynamic.
func ReLU(x *graph.Node) *graph.Node { return graph.MulScalar(graph.Add(x, graph.Abs(x)), 0.5) }
