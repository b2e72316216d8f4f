package main

import (
	"flag"

	"github.com/vitseg/vitseg/model"
)

// archFlags are the architecture options beyond the preset (stored in model.Config and the model's metadata),
// shared by train and model summary; their defaults leave the preset as it is.
type archFlags struct {
	dropPath              float64
	headHidden, patchSize int
	stem, decoder         string
}

func (a *archFlags) register(fs *flag.FlagSet) {
	fs.Float64Var(&a.dropPath, "drop-path", 0, "stochastic depth: drop rate of the last encoder block's residual branches, linear from 0 (0: off)")
	fs.IntVar(&a.headHidden, "head-hidden", 0, "MLP output head with this hidden width instead of the single Linear (article hypothesis 1; 0: off)")
	fs.IntVar(&a.patchSize, "patch-size", 0, "patch side, overriding the preset's (article hypothesis 2: 8; 0: the preset's)")
	fs.StringVar(&a.stem, "stem", model.StemLinear, "ViT patch embedding: empty for the article's Linear, or conv (3x3 stride-2 convolutions with BatchNorm and ReLU down to the patch grid)")
	fs.StringVar(&a.decoder, "decoder", model.DecoderLinear, "ViT output: empty for the article's Linear head folded into patches, unet (x2 upsampling stages with 3x3 convolutions and the conv stem's feature maps as skip connections, over the token grid's upsampled class logits; needs --stem conv) or unet-linear (the same over the article's Linear head)")
}

// apply sets the options on cfg; the caller validates it.
func (a *archFlags) apply(cfg *model.Config) {
	cfg.DropPath, cfg.HeadHidden, cfg.Stem, cfg.Decoder = a.dropPath, a.headHidden, a.stem, a.decoder
	if a.patchSize > 0 {
		cfg.PatchSize = a.patchSize
	}
}
