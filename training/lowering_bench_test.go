package training_test

import (
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/vitseg/vitseg/internal/testsupport/modeltest"
)

// BenchmarkDotGeneralLowering measures how GoMLX's ONNX backend runs the three matrix products of a Linear
// layer's training step (the article's MLP: 16 images x 64 tokens, 768 -> 3072) on ONNX Runtime's CPU: the
// forward product x·W, which it lowers to MatMul, and the two of the backward pass, dx = dy·Wᵀ and dW = xᵀ·dy,
// whose contracting axes are not MatMul's, so that it lowers them to Einsum (compute-onnx ops_dotgeneral.go).
// Each backward product is also measured written with explicit Transposes in front, which GoMLX lowers to
// Transpose + MatMul, and both through GoMLX's own autodiff. GFLOP/s is reported (2·n·k·m per product).
//
//	go test -tags onnx -run '^$' -bench DotGeneralLowering ./training
func BenchmarkDotGeneralLowering(b *testing.B) {
	const batch, tokens, in, out = 16, 64, 768, 3072
	be := modeltest.Backend(b)
	r := rand.New(rand.NewPCG(1, 2))
	random := func(dims ...int) *tensors.Tensor {
		n := 1
		for _, d := range dims {
			n *= d
		}
		v := make([]float32, n)
		for i := range v {
			v[i] = r.Float32() - 0.5
		}
		return tensors.FromFlatDataAndDimensions(v, dims...)
	}
	x, w, dy := random(batch, tokens, in), random(in, out), random(batch, tokens, out)
	flops := 2.0 * batch * tokens * in * out
	cases := []struct {
		name     string
		products float64
		fn       func(x, w, dy *graph.Node) *graph.Node
	}{
		{"forward x·W (MatMul)", 1, func(x, w, _ *graph.Node) *graph.Node { return graph.Einsum("bti,io->bto", x, w) }},
		{"dx = dy·Wᵀ (Einsum)", 1, func(_, w, dy *graph.Node) *graph.Node { return graph.Einsum("bto,io->bti", dy, w) }},
		{"dx = dy·Transpose(W) (Transpose + MatMul)", 1, func(_, w, dy *graph.Node) *graph.Node {
			return graph.Einsum("bto,oi->bti", dy, graph.Transpose(w, 0, 1))
		}},
		{"dW = xᵀ·dy (Einsum)", 1, func(x, _, dy *graph.Node) *graph.Node { return graph.Einsum("bti,bto->io", x, dy) }},
		{"dW = Transpose(x)·dy (Transpose + MatMul)", 1, func(x, _, dy *graph.Node) *graph.Node {
			xt := graph.Transpose(graph.Reshape(x, batch*tokens, in), 0, 1)
			return graph.Einsum("in,no->io", xt, graph.Reshape(dy, batch*tokens, out))
		}},
		{"forward, dx and dW by GoMLX's autodiff", 3, func(x, w, dy *graph.Node) *graph.Node {
			loss := graph.ReduceAllSum(graph.Mul(graph.Einsum("bti,io->bto", x, w), dy))
			g := graph.Gradient(loss, x, w)
			return graph.Add(graph.ReduceAllSum(g[0]), graph.ReduceAllSum(g[1]))
		}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			exec := graph.MustNewExec(be, c.fn)
			exec.MustCall(x, w, dy) // compile
			for b.Loop() {
				exec.MustCall(x, w, dy)
			}
			b.ReportMetric(c.products*flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
