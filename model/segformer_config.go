package model

import "fmt"

// Architectures of Config.Architecture.
const (
	ArchViT       = ""          // the article's Vision Transformer (the default)
	ArchSegFormer = "segformer" // SegFormer (Xie et al. 2021), B0-sized: see SegFormerB0
)

// PresetSegFormer is the SegFormer-B0-sized preset.
const PresetSegFormer = "segformer"

// SegFormerStage is one stage of SegFormer's Mix Transformer encoder.
type SegFormerStage struct {
	Channels  int // token width C
	Depth     int // transformer blocks
	Heads     int // attention heads
	Reduction int // spatial-reduction ratio of the keys and values
	Kernel    int // overlapping patch embedding: kernel, stride, padding kernel/2
	Stride    int
}

// SegFormerB0 returns the four stages of MiT-B0 (strides 4, 8, 16, 32 overall).
func SegFormerB0() [4]SegFormerStage {
	return [4]SegFormerStage{
		{Channels: 32, Depth: 2, Heads: 1, Reduction: 8, Kernel: 7, Stride: 4},
		{Channels: 64, Depth: 2, Heads: 2, Reduction: 4, Kernel: 3, Stride: 2},
		{Channels: 160, Depth: 2, Heads: 5, Reduction: 2, Kernel: 3, Stride: 2},
		{Channels: 256, Depth: 2, Heads: 8, Reduction: 1, Kernel: 3, Stride: 2},
	}
}

// SegFormer's fixed widths: the Mix-FFN expansion and the all-MLP decoder's width.
const (
	SegFormerMLPRatio   = 4
	SegFormerDecoderDim = 256
)

func segformerPreset() Config {
	return Config{Architecture: ArchSegFormer, ImageSize: 128, InChannels: 3, Classes: 3, Dropout: 0.1, DropPath: 0.1}
}

// segformerParams counts SegFormer's trainable parameters by part, with the layer shapes of the reference
// implementation (convolutions and Linear layers with bias, except the decoder's fuse convolution; LayerNorm and
// BatchNorm affine).
func (c Config) segformerParams() []PartParams {
	linear := func(in, out int) int { return in*out + out }
	parts := []PartParams{{"batch_norm", 2 * c.InChannels}}
	in := c.InChannels
	for i, s := range SegFormerB0() {
		ch := s.Channels
		embed := s.Kernel*s.Kernel*in*ch + ch + 2*ch
		block := 2*ch + linear(ch, ch) + linear(ch, 2*ch) + linear(ch, ch) + // ln1, q, kv, proj
			2*ch + linear(ch, SegFormerMLPRatio*ch) + 10*SegFormerMLPRatio*ch + linear(SegFormerMLPRatio*ch, ch) // ln2, fc1, dwconv, fc2
		if s.Reduction > 1 {
			block += s.Reduction*s.Reduction*ch*ch + ch + 2*ch // spatial-reduction conv and its LayerNorm
		}
		parts = append(parts, PartParams{fmt.Sprintf("stage_%d (embed + %d x %s + norm)", i+1, s.Depth, groupDigits(block)),
			embed + s.Depth*block + 2*ch})
		in = ch
	}
	d := SegFormerDecoderDim
	decoder := 0
	for _, s := range SegFormerB0() {
		decoder += linear(s.Channels, d)
	}
	decoder += 4*d*d + 2*d + linear(d, c.Classes) // fuse (no bias) + BatchNorm, prediction
	return append(parts, PartParams{"all-MLP decoder", decoder})
}
