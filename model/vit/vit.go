// Package vit defines the vitseg Vision Transformer once, as a GoMLX graph, for training and for export to ONNX.
//
// The layers mirror the article's PyTorch modules one to one (see package model for the architecture), with
// weights stored as [in, out] matrices. The multi-head self-attention is written out explicitly so that it is
// numerically the computation of PyTorch's nn.MultiheadAttention: a fused Q/K/V input projection with bias,
// per-head scaled dot products with scale 1/sqrt(head_dim), softmax over keys, dropout on the attention weights
// (training only), and an output projection with bias.
package vit

import (
	"math"

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
)

// Epsilon of the LayerNorms, PyTorch's default (the BatchNorms are spatial.BatchNorm2D).
const normEpsilon = 1e-5

// Tracer receives the name and output shape of each stage as the graph is built. It may be nil.
type Tracer = graphexport.Tracer

// Network builds the forward pass for images [B, in_channels, H, W] (float32, 0..1) and returns the logits
// [B, classes, H, W]. Dropout and batch statistics are active when the scope's store is in training mode for the
// graph (train.Trainer sets it).
type Network struct {
	Config model.Config
	Trace  Tracer
}

// New returns the network for cfg, after validating it.
func New(cfg model.Config) (*Network, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Network{Config: cfg}, nil
}

// Forward is the model function: images [B, C, H, W] -> logits [B, classes, H, W].
func (n *Network) Forward(scope *gomlx.Scope, images *graph.Node) *graph.Node {
	c := n.Config
	n.Trace.Record("input", images)

	x := spatial.BatchNorm2D(scope.In("batch_norm"), images)
	n.Trace.Record("batch_norm", x)

	// skips are the feature maps the UNet decoder concatenates, from the full-size normalised image down.
	skips := []*graph.Node{x}
	if c.Stem == model.StemConv {
		var maps []*graph.Node
		x, maps = n.convStem(scope.In("conv_stem"), x)
		skips = append(skips, maps...)
	} else {
		x = ImageToPatches(x, c.PatchSize)
		n.Trace.Record("image_to_patches", x)
		x = dense(scope.In("patch_embedding"), x, c.EmbedSize)
		n.Trace.Record("patch_embedding", x)
	}

	pos := scope.In("position_embedding").
		WithInitializer(initializer.RandomNormalFn(scope, 1.0)). // torch.randn
		VariableWithShape("embedding", shapes.Make(x.DType(), c.NumPatches(), c.EmbedSize)).
		NodeValue(x.Graph())
	x = graph.Add(x, graph.ExpandAxes(pos, 0))
	n.Trace.Record("position_embedding", x)

	encoder := scope.In("encoder")
	for i := range c.Blocks {
		x = n.encoderBlock(encoder.In("block_%02d", i), x, n.dropPathRate(i))
		n.Trace.Record("encoder_block", x)
	}

	if c.HasUNet() {
		return n.unetDecoder(scope.In("decoder"), x, skips)
	}
	if c.HeadHidden > 0 {
		head := scope.In("output_head")
		x = activation.Gelu(dense(head.In("fc1"), x, c.HeadHidden))
		x = dense(head.In("fc2"), x, c.OutPatchDim())
		n.Trace.Record("output_head", x)
	} else {
		x = dense(scope.In("output_projection"), x, c.OutPatchDim())
		n.Trace.Record("output_projection", x)
	}

	x = PatchesToImage(x, c.ImageSize, c.PatchSize, c.Classes)
	n.Trace.Record("fold", x)
	return x
}

// convStem is the convolutional stem (model.StemConv): images [B, C, H, W] -> tokens [B, (H/p)*(W/p), E] in the
// row-major order of ImageToPatches' tiles, and the feature map [B, C_i, H/2^i, W/2^i] of each layer.
func (n *Network) convStem(scope *gomlx.Scope, x *graph.Node) (*graph.Node, []*graph.Node) {
	g := x.Graph()
	var maps []*graph.Node
	conv := spatial.ConvFor(scope.IsTraining(g))
	for i, out := range n.Config.StemChannels() {
		layer := scope.In("conv_%d", i+1)
		in := x.Shape().Dimensions[1]
		kernel := layer.WithInitializer(pytorchLinearInit(layer, 9*in)). // nn.Conv2d's default
											VariableWithShape("weights", shapes.Make(x.DType(), 3, 3, in, out)).NodeValue(g)
		side := x.Shape().Dimensions[2] / 2
		x = spatial.TokensToImage(conv(x, kernel, nil, 3, 2, 1), side)
		x = spatial.BatchNorm2D(layer.In("batch_norm"), x)
		x = spatial.ReLU(x)
		n.Trace.Record("conv_stem", x)
		maps = append(maps, x)
	}
	x = dense(scope.In("projection"), spatial.ImageToTokens(x), n.Config.EmbedSize)
	n.Trace.Record("stem_projection", x)
	return x, maps
}

// unetDecoder is model.DecoderUNet and model.DecoderUNetLinear: tokens [B, (H/p)*(W/p), E] -> logits
// [B, classes, H, W]. skips holds the full-size normalised image and the stem's feature maps, by decreasing
// resolution; each stage doubles the resolution bilinearly, concatenates the skip of the new resolution, and
// applies conv 3x3 -> channel norm -> ReLU. Its convolutions have stride 1, which GoMLX's ONNX backend
// differentiates natively (spatial.ConvImage). The norm is per pixel (spatial.ChannelNorm), not BatchNorm: with BatchNorm the validation accuracy swung between 0.49 and 0.73
// from epoch to epoch (its running statistics lag the token distribution the encoder keeps moving), while
// training and inference compute the same with the per-pixel norm.
func (n *Network) unetDecoder(scope *gomlx.Scope, tokens *graph.Node, skips []*graph.Node) *graph.Node {
	c := n.Config
	g := tokens.Graph()
	x := spatial.TokensToImage(tokens, c.ImageSize/c.PatchSize)
	stages := c.DecoderStages()
	for i, s := range stages {
		stage := scope.In("up_%d", i+1)
		x = graph.Concatenate([]*graph.Node{spatial.Resize(x, s.Side), skips[len(stages)-1-i]}, 1)
		kernel := stage.WithInitializer(pytorchLinearInit(stage, 9*s.In)). // nn.Conv2d's default
											VariableWithShape("weights", shapes.Make(x.DType(), 3, 3, s.In, s.Out)).NodeValue(g)
		x = spatial.ConvImage(x, kernel, nil, 3)
		x = spatial.ReLU(spatial.ChannelNorm(stage.In("channel_norm"), x))
		n.Trace.Record("decoder_stage", x)
	}
	head := scope.In("classifier")
	in := x.Shape().Dimensions[1]
	init := pytorchLinearInit(head, in)
	kernel := head.WithInitializer(init).VariableWithShape("weights", shapes.Make(x.DType(), 1, 1, in, c.Classes)).NodeValue(g)
	bias := head.WithInitializer(init).VariableWithShape("biases", shapes.Make(x.DType(), c.Classes)).NodeValue(g)
	x = spatial.ConvImage(x, kernel, bias, 1)
	n.Trace.Record("classifier", x)
	// The coarse logits carry the layout, the decoder adds the detail: they see all E features of a token and learn
	// the class layout in a few steps, where the narrow full-size stages alone need hundreds.
	var coarse *graph.Node
	if c.Decoder == model.DecoderUNetLinear {
		coarse = PatchesToImage(dense(scope.In("output_projection"), tokens, c.OutPatchDim()), c.ImageSize, c.PatchSize, c.Classes)
	} else {
		coarse = spatial.TokensToImage(dense(scope.In("token_classifier"), tokens, c.Classes), c.ImageSize/c.PatchSize)
		coarse = spatial.Resize(coarse, c.ImageSize)
	}
	x = graph.Add(x, coarse)
	n.Trace.Record("logits", x)
	return x
}

// encoderBlock is the article's SelfAttentionEncoderBlock: pre-LN attention and pre-LN MLP, both residual. With
// dropPath > 0 each residual branch is dropped per example while training (stochastic depth).
func (n *Network) encoderBlock(scope *gomlx.Scope, x *graph.Node, dropPath float64) *graph.Node {
	c := n.Config
	y := layerNorm(scope.In("ln1"), x)
	x = graph.Add(x, DropPath(scope.In("drop_path_attention"), selfAttention(scope.In("attention"), y, c.Heads, c.Dropout), dropPath))
	y = layerNorm(scope.In("ln2"), x)
	mlp := scope.In("mlp")
	y = dense(mlp.In("fc1"), y, 4*c.EmbedSize)
	y = activation.Gelu(y) // exact (erf) GELU, as nn.GELU().
	y = dense(mlp.In("fc2"), y, c.EmbedSize)
	y = layers.DropoutStatic(mlp, y, c.Dropout)
	return graph.Add(x, DropPath(scope.In("drop_path_mlp"), y, dropPath))
}

// dropPathRate is the stochastic-depth rate of block i: rising linearly from 0 at the first block to
// Config.DropPath at the last, as in DeiT.
func (n *Network) dropPathRate(i int) float64 {
	if n.Config.Blocks <= 1 {
		return n.Config.DropPath
	}
	return n.Config.DropPath * float64(i) / float64(n.Config.Blocks-1)
}

// DropPath is timm's drop_path: while training, each example's x is zeroed with probability rate and scaled by
// 1/(1-rate) otherwise, so that its expectation is x; in inference (or with rate 0) it is x.
func DropPath(scope *gomlx.Scope, x *graph.Node, rate float64) *graph.Node {
	g := x.Graph()
	if rate <= 0 || !scope.IsTraining(g) {
		return x
	}
	dims := make([]int, x.Rank())
	for i := range dims {
		dims[i] = 1
	}
	dims[0] = x.Shape().Dimensions[0]
	keep := scope.RandomBernoulli(graph.Scalar(g, x.DType(), 1-rate), shapes.Make(x.DType(), dims...))
	return graph.Mul(x, graph.MulScalar(keep, 1/(1-rate)))
}

// selfAttention is nn.MultiheadAttention(E, heads, dropout, batch_first=True) applied as mha(x, x, x).
func selfAttention(scope *gomlx.Scope, x *graph.Node, heads int, dropout float64) *graph.Node {
	dims := x.Shape().Dimensions
	batch, seq, embed := dims[0], dims[1], dims[2]
	headDim := embed / heads

	// PyTorch keeps the three input projections in one [3E, E] in_proj_weight; three [E, E] matrices are the same
	// computation and parameters, and avoid slicing activations (whose gradient, Pad, GoMLX's ONNX backend lacks).
	in := scope.In("in_proj")
	project := func(name string) *graph.Node {
		p := linearWithInit(in.In("%s", name), x, embed, initializer.XavierUniformFn(scope), initializer.Zero)
		return graph.Reshape(p, batch, seq, heads, headDim)
	}
	q, k, v := project("query"), project("key"), project("value")

	scores := graph.Einsum("bqhd,bkhd->bhqk", q, k)
	scores = graph.MulScalar(scores, 1/math.Sqrt(float64(headDim)))
	weights := graph.Softmax(scores, -1)
	weights = layers.DropoutStatic(scope, weights, dropout)
	out := graph.Einsum("bhqk,bkhd->bqhd", weights, v)
	out = graph.Reshape(out, batch, seq, embed)
	return linearWithInit(scope.In("out_proj"), out, embed, pytorchLinearInit(scope, embed), initializer.Zero)
}

// ImageToPatches cuts images [B, C, H, W] into non-overlapping patch*patch tiles and flattens each tile
// channel-major, as nn.Unfold followed by permute(0, 2, 1): [B, (H/p)*(W/p), C*p*p], tiles in row-major order.
func ImageToPatches(images *graph.Node, patch int) *graph.Node {
	d := images.Shape().Dimensions
	b, c, h, w := d[0], d[1], d[2], d[3]
	gh, gw := h/patch, w/patch
	x := graph.Reshape(images, b, c, gh, patch, gw, patch)
	x = graph.TransposeAllAxes(x, 0, 2, 4, 1, 3, 5) // [B, gh, gw, C, p, p]
	return graph.Reshape(x, b, gh*gw, c*patch*patch)
}

// PatchesToImage is the inverse of ImageToPatches, as permute(0, 2, 1) followed by nn.Fold:
// [B, (H/p)*(W/p), C*p*p] -> [B, C, H, W].
func PatchesToImage(patches *graph.Node, imageSize, patch, channels int) *graph.Node {
	b := patches.Shape().Dimensions[0]
	g := imageSize / patch
	x := graph.Reshape(patches, b, g, g, channels, patch, patch)
	x = graph.TransposeAllAxes(x, 0, 3, 1, 4, 2, 5) // [B, C, gh, p, gw, p]
	return graph.Reshape(x, b, channels, imageSize, imageSize)
}

// dense is nn.Linear with PyTorch's default initialisation.
func dense(scope *gomlx.Scope, x *graph.Node, out int) *graph.Node {
	in := x.Shape().Dimensions[x.Rank()-1]
	init := pytorchLinearInit(scope, in)
	return linearWithInit(scope, x, out, init, init)
}

// pytorchLinearInit is nn.Linear's default: kaiming_uniform(a=sqrt(5)) for the weights and the same
// U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for the bias.
func pytorchLinearInit(scope *gomlx.Scope, fanIn int) gomlx.VariableInitializer {
	bound := 1 / math.Sqrt(float64(fanIn))
	return initializer.RandomUniformFn(scope, -bound, bound)
}

// linearWithInit computes x·W + b for x [B, T, in], with W [in, out] and b [out].
func linearWithInit(scope *gomlx.Scope, x *graph.Node, out int, weightInit, biasInit gomlx.VariableInitializer) *graph.Node {
	g := x.Graph()
	in := x.Shape().Dimensions[x.Rank()-1]
	w := scope.WithInitializer(weightInit).VariableWithShape("weights", shapes.Make(x.DType(), in, out)).NodeValue(g)
	b := scope.WithInitializer(biasInit).VariableWithShape("biases", shapes.Make(x.DType(), out)).NodeValue(g)
	y := graph.Einsum("bti,io->bto", x, w)
	return graph.Add(y, graph.ExpandAxes(b, 0, 1))
}

// layerNorm is nn.LayerNorm(E) over the last axis (eps 1e-5, learned gain and offset).
func layerNorm(scope *gomlx.Scope, x *graph.Node) *graph.Node {
	return norm.LayerNorm(scope, x, -1).Epsilon(normEpsilon).Done()
}
