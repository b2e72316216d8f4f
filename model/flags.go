package model

import (
	"flag"
	"fmt"
)

// RegisterPresetFlag registers --preset on fs, bound to name, with def as its default.
func RegisterPresetFlag(fs *flag.FlagSet, name *string, def string) {
	fs.StringVar(name, "preset", def, "model preset: article, small, tiny or segformer")
}

// ArchOptions are the architecture options beyond a preset (stored in Config and the model's metadata), shared
// by vitseg train and model summary; their defaults leave the preset as it is, except that a DropPath of 0 turns
// a preset's stochastic depth off.
type ArchOptions struct {
	DropPath   float64
	HeadHidden int
	PatchSize  int // 0: the preset's
	Stem       string
	Decoder    string
}

// RegisterFlags registers --drop-path, --head-hidden, --patch-size, --stem and --decoder on fs, bound to o.
func (o *ArchOptions) RegisterFlags(fs *flag.FlagSet) {
	fs.Float64Var(&o.DropPath, "drop-path", 0, "stochastic depth: drop rate of the last encoder block's residual branches, linear from 0 (0: off)")
	fs.IntVar(&o.HeadHidden, "head-hidden", 0, "MLP output head with this hidden width instead of the single Linear (article hypothesis 1; 0: off)")
	fs.IntVar(&o.PatchSize, "patch-size", 0, "patch side, overriding the preset's (article hypothesis 2: 8; 0: the preset's)")
	fs.StringVar(&o.Stem, "stem", StemLinear, "ViT patch embedding: empty for the article's Linear, or conv (3x3 stride-2 convolutions with BatchNorm and ReLU down to the patch grid)")
	fs.StringVar(&o.Decoder, "decoder", DecoderLinear, "ViT output: empty for the article's Linear head folded into patches, unet (x2 upsampling stages with 3x3 convolutions and the conv stem's feature maps as skip connections, over the token grid's upsampled class logits; needs --stem conv) or unet-linear (the same over the article's Linear head)")
}

// Apply sets the options on c; the caller validates it.
func (o ArchOptions) Apply(c *Config) {
	c.DropPath, c.HeadHidden, c.Stem, c.Decoder = o.DropPath, o.HeadHidden, o.Stem, o.Decoder
	if o.PatchSize > 0 {
		c.PatchSize = o.PatchSize
	}
}

// Choose is the preset named preset with the options applied, validated. An unknown preset's error names
// --preset.
func Choose(preset string, o ArchOptions) (Config, error) {
	c, err := Preset(preset)
	if err != nil {
		return c, fmt.Errorf("--preset: %w", err)
	}
	o.Apply(&c)
	return c, c.Validate()
}
