// Package segformer defines SegFormer (Xie et al., "SegFormer: Simple and Efficient Design for Semantic
// Segmentation with Transformers", 2021) at the B0 size once, as a GoMLX graph, for training and for export to
// ONNX: a Mix Transformer encoder of four stages (overlapping patch embeddings at 1/4, 1/8, 1/16 and 1/32 of the
// input, efficient self-attention with spatial reduction of the keys and values, Mix-FFN with a 3x3 depthwise
// convolution, no position embedding) and the all-MLP decoder that fuses the four scales at 1/4, whose logits are
// upsampled bilinearly to the input size. As the ViT does, it normalises the raw 0..1 image with a BatchNorm2d(3).
package segformer

import (
	"fmt"
	"math"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/layers"
	"github.com/gomlx/gomlx/ml/layers/activation"
	"github.com/gomlx/gomlx/ml/layers/norm"
	gomlx "github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"

	"github.com/vitseg/vitseg/model"
	"github.com/vitseg/vitseg/model/graphexport"
	"github.com/vitseg/vitseg/model/spatial"
	"github.com/vitseg/vitseg/model/vit"
)

const normEpsilon = 1e-5 // PyTorch's LayerNorm default (the BatchNorms are spatial.BatchNorm2D)

// Network is SegFormer-B0 for a model.Config with Architecture model.ArchSegFormer.
type Network struct {
	Config model.Config
	Trace  graphexport.Tracer
}

// New returns the network for cfg, after validating it.
func New(cfg model.Config) (*Network, error) {
	if cfg.Architecture != model.ArchSegFormer {
		return nil, fmt.Errorf("segformer: config architecture is %q", cfg.Architecture)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Network{Config: cfg}, nil
}

// Forward is the model function: images [B, C, H, W] (0..1) -> logits [B, classes, H, W].
func (n *Network) Forward(scope *gomlx.Scope, images *graph.Node) *graph.Node {
	n.Trace.Record("input", images)
	x := spatial.BatchNorm2D(scope.In("batch_norm"), images)
	stages := model.SegFormerB0()
	total, done := 0, 0
	for _, s := range stages {
		total += s.Depth
	}
	features := make([]*graph.Node, len(stages))
	for i, s := range stages {
		st := scope.In("stage_%d", i+1)
		embed := st.In("patch_embed")
		side := x.Shape().Dimensions[2] / s.Stride
		tokens := layerNorm(embed.In("norm"), overlapPatchEmbed(embed.In("conv"), x, s))
		for j := range s.Depth {
			rate := n.Config.DropPath * float64(done) / float64(max(total-1, 1))
			tokens = block(st.In("block_%d", j), tokens, side, s, rate)
			done++
		}
		tokens = layerNorm(st.In("norm"), tokens)
		x = spatial.TokensToImage(tokens, side)
		features[i] = x
		n.Trace.Record(fmt.Sprintf("stage_%d", i+1), x)
	}
	logits := n.decoder(scope.In("decoder"), features)
	logits = spatial.Resize(logits, n.Config.ImageSize)
	n.Trace.Record("upsample", logits)
	return logits
}

// overlapPatchEmbed is a Conv2d(k, stride, padding k/2) from the previous stage's channels to s.Channels.
func overlapPatchEmbed(scope *gomlx.Scope, x *graph.Node, s model.SegFormerStage) *graph.Node {
	in := x.Shape().Dimensions[1]
	fanIn := s.Kernel * s.Kernel * in
	kernel := param(scope, "weights", convInit(scope, fanIn), s.Kernel, s.Kernel, in, s.Channels).NodeValue(x.Graph())
	bias := param(scope, "biases", initializer.Zero, s.Channels).NodeValue(x.Graph())
	return spatial.ConvFor(scope.IsTraining(x.Graph()))(x, kernel, bias, s.Kernel, s.Stride, s.Kernel/2)
}

// block is a Mix Transformer block: pre-LN efficient self-attention and pre-LN Mix-FFN, both residual.
func block(scope *gomlx.Scope, x *graph.Node, side int, s model.SegFormerStage, dropPath float64) *graph.Node {
	y := efficientAttention(scope.In("attention"), layerNorm(scope.In("ln1"), x), side, s)
	x = graph.Add(x, vit.DropPath(scope.In("drop_path_attention"), y, dropPath))
	y = mixFFN(scope.In("mlp"), layerNorm(scope.In("ln2"), x), side, s.Channels*model.SegFormerMLPRatio)
	return graph.Add(x, vit.DropPath(scope.In("drop_path_mlp"), y, dropPath))
}

// efficientAttention is multi-head self-attention whose keys and values come from the tokens reduced by a
// Reduction x Reduction convolution (stride Reduction) and a LayerNorm: sequence N attends to N/R^2.
func efficientAttention(scope *gomlx.Scope, x *graph.Node, side int, s model.SegFormerStage) *graph.Node {
	d := x.Shape().Dimensions
	batch, seq, ch := d[0], d[1], d[2]
	headDim := ch / s.Heads
	q := graph.Reshape(linear(scope.In("query"), x, ch), batch, seq, s.Heads, headDim)
	kv := x
	if r := s.Reduction; r > 1 {
		sr := scope.In("reduction")
		kernel := param(sr, "weights", convInit(sr, r*r*ch), r, r, ch, ch).NodeValue(x.Graph())
		bias := param(sr, "biases", initializer.Zero, ch).NodeValue(x.Graph())
		kv = spatial.ConvFor(scope.IsTraining(x.Graph()))(spatial.TokensToImage(x, side), kernel, bias, r, r, 0)
		kv = layerNorm(sr.In("norm"), kv)
	}
	kvSeq := kv.Shape().Dimensions[1]
	k := graph.Reshape(linear(scope.In("key"), kv, ch), batch, kvSeq, s.Heads, headDim)
	v := graph.Reshape(linear(scope.In("value"), kv, ch), batch, kvSeq, s.Heads, headDim)
	scores := graph.MulScalar(graph.Einsum("bqhd,bkhd->bhqk", q, k), 1/math.Sqrt(float64(headDim)))
	out := graph.Einsum("bhqk,bkhd->bqhd", graph.Softmax(scores, -1), v)
	return linear(scope.In("proj"), graph.Reshape(out, batch, seq, ch), ch)
}

// mixFFN is Linear(C, hidden) -> depthwise 3x3 conv -> GELU -> Linear(hidden, C): the convolution gives the
// tokens their positional information, in place of a position embedding.
func mixFFN(scope *gomlx.Scope, x *graph.Node, side, hidden int) *graph.Node {
	ch := x.Shape().Dimensions[2]
	y := linear(scope.In("fc1"), x, hidden)
	dw := scope.In("dwconv")
	kernel := param(dw, "weights", convInit(dw, 9), 3, 3, hidden).NodeValue(x.Graph())
	bias := param(dw, "biases", initializer.Zero, hidden).NodeValue(x.Graph())
	y = spatial.DepthwiseConv3x3(spatial.TokensToImage(y, side), kernel, bias)
	y = activation.Gelu(y)
	return linear(scope.In("fc2"), y, ch)
}

// decoder is the all-MLP head: each stage's features projected to DecoderDim and upsampled to 1/4, fused by a
// 1x1 convolution (no bias) + BatchNorm + ReLU, dropout, and a 1x1 convolution to the classes. The fuse
// convolution over the concatenation of the four scales is computed as the sum of its four blocks.
func (n *Network) decoder(scope *gomlx.Scope, features []*graph.Node) *graph.Node {
	dim := model.SegFormerDecoderDim
	quarter := features[0].Shape().Dimensions[2]
	var fused *graph.Node
	fuse := scope.In("fuse")
	// The reference concatenates the scales coarsest first: [c4, c3, c2, c1].
	for i := len(features) - 1; i >= 0; i-- {
		f := features[i]
		proj := linear(scope.In("linear_c%d", i+1), spatial.ImageToTokens(f), dim)
		up := spatial.Resize(spatial.TokensToImage(proj, f.Shape().Dimensions[2]), quarter)
		fs := fuse.In("part_c%d", i+1)
		w := param(fs, "weights", convInit(fs, 4*dim), dim, dim).NodeValue(up.Graph())
		part := spatial.TokensToImage(linearNoBias(spatial.ImageToTokens(up), w), quarter)
		if fused == nil {
			fused = part
		} else {
			fused = graph.Add(fused, part)
		}
	}
	n.Trace.Record("decoder_fuse", fused)
	fused = spatial.BatchNorm2D(fuse.In("batch_norm"), fused)
	fused = spatial.ReLU(fused)
	fused = layers.DropoutStatic(scope, fused, n.Config.Dropout)
	logits := spatial.TokensToImage(linear(scope.In("linear_pred"), spatial.ImageToTokens(fused), n.Config.Classes), quarter)
	n.Trace.Record("decoder_logits", logits)
	return logits
}

func param(scope *gomlx.Scope, name string, init gomlx.VariableInitializer, dims ...int) *gomlx.Variable {
	return scope.WithInitializer(init).VariableWithShape(name, shapes.Make(dtypeF32, dims...))
}

// convInit is PyTorch's default Conv2d/Linear initialisation: U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
func convInit(scope *gomlx.Scope, fanIn int) gomlx.VariableInitializer {
	bound := 1 / math.Sqrt(float64(fanIn))
	return initializer.RandomUniformFn(scope, -bound, bound)
}

// linear is nn.Linear with PyTorch's default initialisation on x [B, T, in].
func linear(scope *gomlx.Scope, x *graph.Node, out int) *graph.Node {
	in := x.Shape().Dimensions[x.Rank()-1]
	g := x.Graph()
	w := param(scope, "weights", convInit(scope, in), in, out).NodeValue(g)
	b := param(scope, "biases", convInit(scope, in), out).NodeValue(g)
	return graph.Add(graph.Einsum("bti,io->bto", x, w), graph.ExpandAxes(b, 0, 1))
}

func linearNoBias(x, w *graph.Node) *graph.Node { return graph.Einsum("bti,io->bto", x, w) }

func layerNorm(scope *gomlx.Scope, x *graph.Node) *graph.Node {
	return norm.LayerNorm(scope, x, -1).Epsilon(normEpsilon).Done()
}

const dtypeF32 = dtypes.Float32
