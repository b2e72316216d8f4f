// Package model describes the vitseg Vision Transformer for semantic segmentation: its configuration, named
// presets, parameter counts, the per-stage shape trace, and the metadata stored inside exported ONNX files.
//
// The architecture is the one of "Efficient Image Segmentation using PyTorch, Part 4": BatchNorm2d(3) on the raw
// 0..1 image, non-overlapping patches flattened channel-major (as nn.Unfold), a Linear patch embedding plus a
// learned position embedding, N pre-LayerNorm encoder blocks (multi-head self-attention; MLP E->4E GELU ->E), a
// Linear E -> patch*patch*classes head, and the patches folded back into (B, classes, H, W) logits.
//
// This package is pure Go. The network itself is built with GoMLX in package model/vit, and served with
// ONNX Runtime by package model/inference.
package model

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Class ids of the segmentation output, in the order of the logits' class axis.
const (
	ClassPet        = 0
	ClassBackground = 1
	ClassBorder     = 2
	// NumClasses is the number of classes the model predicts.
	NumClasses = 3
)

// ClassNames returns the names of the output classes, indexed by class id.
func ClassNames() []string { return []string{"pet", "background", "border"} }

// Config mirrors the article's VisionTransformerArgs.
type Config struct {
	Architecture string `json:"architecture,omitempty"` // ArchViT (empty: the article's) or ArchSegFormer

	ImageSize  int     `json:"image_size"`  // square input side, in pixels
	PatchSize  int     `json:"patch_size"`  // square patch side, in pixels
	InChannels int     `json:"in_channels"` // input channels (3: RGB)
	Classes    int     `json:"classes"`     // output channels (3: pet, background, border)
	EmbedSize  int     `json:"embed_size"`  // transformer width E
	Blocks     int     `json:"blocks"`      // number of encoder blocks
	Heads      int     `json:"heads"`       // attention heads per block
	Dropout    float64 `json:"dropout"`     // dropout rate (attention weights and MLP output)

	// Options beyond the article's architecture, off at their zero value (and then absent from the metadata).
	HeadHidden int     `json:"head_hidden,omitempty"` // > 0: MLP output head E -> HeadHidden GELU -> out (hypothesis 1)
	DropPath   float64 `json:"drop_path,omitempty"`   // stochastic depth: residual-branch drop rate of the last block
	Stem       string  `json:"stem,omitempty"`        // StemLinear (empty: the article's) or StemConv
	Decoder    string  `json:"decoder,omitempty"`     // DecoderLinear (empty: the article's), DecoderUNet or DecoderUNetLinear
}

// Decoders of Config.Decoder: how the ViT turns the encoder's tokens into logits.
const (
	// DecoderLinear is the article's head: one Linear(E, classes*patch*patch) per token, folded into the image,
	// so that every patch*patch block of the logits comes from one token.
	DecoderLinear = ""
	// DecoderUNet is a convolutional decoder over the token grid, as TransUNet and UNETR put on a ViT: stages that
	// each double the resolution (bilinear resize), concatenate the convolutional stem's feature map of that
	// resolution (the normalised image at full size) and apply a 3x3 convolution, a per-pixel channel norm
	// (LayerNorm2d) and ReLU, up to the image size, then a 1x1 convolution to the classes, added to the token
	// grid's own Linear class logits upsampled bilinearly. It needs StemConv, whose feature maps it reuses.
	DecoderUNet = "unet"
	// DecoderUNetLinear is DecoderUNet whose coarse logits are the article's Linear head folded into patches
	// instead of the token grid's upsampled class logits: the head gives every pixel of a patch its own logits
	// from the first step, and the decoder's convolutions over the stem's features correct them at the edges.
	DecoderUNetLinear = "unet-linear"
)

// HasUNet reports whether the configuration's decoder is one of the UNet decoders.
func (c Config) HasUNet() bool { return c.Decoder == DecoderUNet || c.Decoder == DecoderUNetLinear }

// Stems of Config.Stem: how the ViT turns the image into patch tokens.
const (
	// StemLinear is the article's patch embedding: non-overlapping patches flattened and projected by one Linear.
	StemLinear = ""
	// StemConv is a convolutional stem (Xiao et al., "Early Convolutions Help Transformers See Better", 2021):
	// log2(patch) 3x3 stride-2 convolutions, each followed by BatchNorm and ReLU, with widths doubling up to the
	// embedding size (see StemChannels), then a Linear(E, E) projection of each position; same token grid.
	StemConv = "conv"
)

// Preset names.
const (
	PresetArticle = "article"
	PresetSmall   = "small"
	PresetTiny    = "tiny"
)

// Presets returns the named configurations: "article" (the article's 86,284,806-parameter model), "small" (the
// CPU-friendly default, 5,149,190 parameters) and "tiny" (for fast tests).
func Presets() map[string]Config {
	base := Config{ImageSize: 128, PatchSize: 16, InChannels: 3, Classes: 3}
	article, small, tiny := base, base, base
	article.EmbedSize, article.Blocks, article.Heads, article.Dropout = 768, 12, 8, 0.2
	small.EmbedSize, small.Blocks, small.Heads, small.Dropout = 256, 6, 8, 0.2
	tiny.EmbedSize, tiny.Blocks, tiny.Heads, tiny.Dropout = 32, 2, 4, 0.1
	return map[string]Config{PresetArticle: article, PresetSmall: small, PresetTiny: tiny, PresetSegFormer: segformerPreset()}
}

// Preset returns the named preset configuration.
func Preset(name string) (Config, error) {
	cfg, ok := Presets()[name]
	if !ok {
		names := make([]string, 0, len(Presets()))
		for n := range Presets() {
			names = append(names, n)
		}
		sort.Strings(names)
		return Config{}, fmt.Errorf("unknown model preset %q (known: %s)", name, strings.Join(names, ", "))
	}
	return cfg, nil
}

// Validate reports every inconsistency of the configuration, joined in one error.
func (c Config) Validate() error {
	switch c.Architecture {
	case ArchViT:
	case ArchSegFormer:
		return c.validateSegFormer()
	default:
		return fmt.Errorf("unknown architecture %q (known: %q, %q)", c.Architecture, ArchViT, ArchSegFormer)
	}
	errs := positive(namedInt{"image_size", c.ImageSize}, namedInt{"patch_size", c.PatchSize},
		namedInt{"in_channels", c.InChannels}, namedInt{"classes", c.Classes}, namedInt{"embed_size", c.EmbedSize},
		namedInt{"blocks", c.Blocks}, namedInt{"heads", c.Heads})
	if c.ImageSize > 0 && c.PatchSize > 0 && c.ImageSize%c.PatchSize != 0 {
		errs = append(errs, fmt.Errorf("image_size %d is not divisible by patch_size %d", c.ImageSize, c.PatchSize))
	}
	if c.EmbedSize > 0 && c.Heads > 0 && c.EmbedSize%c.Heads != 0 {
		errs = append(errs, fmt.Errorf("embed_size %d is not divisible by heads %d", c.EmbedSize, c.Heads))
	}
	errs = append(errs, c.stemErrors()...)
	errs = append(errs, c.decoderErrors()...)
	if c.HeadHidden < 0 {
		errs = append(errs, fmt.Errorf("head_hidden must not be negative, got %d", c.HeadHidden))
	}
	return errors.Join(append(errs, c.commonErrors()...)...)
}

type namedInt struct {
	name string
	v    int
}

func positive(values ...namedInt) []error {
	var errs []error
	for _, p := range values {
		if p.v <= 0 {
			errs = append(errs, fmt.Errorf("%s must be positive, got %d", p.name, p.v))
		}
	}
	return errs
}

// commonErrors checks what every architecture shares: the dropout rates and the class count.
func (c Config) commonErrors() []error {
	var errs []error
	if c.Dropout < 0 || c.Dropout >= 1 {
		errs = append(errs, fmt.Errorf("dropout must be in [0, 1), got %g", c.Dropout))
	}
	if c.DropPath < 0 || c.DropPath >= 1 {
		errs = append(errs, fmt.Errorf("drop_path must be in [0, 1), got %g", c.DropPath))
	}
	if c.Classes > 256 {
		errs = append(errs, fmt.Errorf("classes must be at most 256 (masks are 8-bit), got %d", c.Classes))
	}
	return errs
}

func (c Config) stemErrors() []error {
	switch c.Stem {
	case StemLinear:
		return nil
	case StemConv:
		p := c.PatchSize
		if p < 2 || p&(p-1) != 0 {
			return []error{fmt.Errorf("stem %q needs a power-of-two patch_size of at least 2, got %d", c.Stem, p)}
		}
		if c.EmbedSize%(p/2) != 0 {
			return []error{fmt.Errorf("stem %q needs embed_size divisible by patch_size/2 = %d, got %d", c.Stem, p/2, c.EmbedSize)}
		}
		return nil
	default:
		return []error{fmt.Errorf("unknown stem %q (known: %q, %q)", c.Stem, StemLinear, StemConv)}
	}
}

func (c Config) decoderErrors() []error {
	switch c.Decoder {
	case DecoderLinear:
		return nil
	case DecoderUNet, DecoderUNetLinear:
		var errs []error
		if c.Stem != StemConv {
			errs = append(errs, fmt.Errorf("decoder %q needs stem %q (its skip connections are the stem's feature maps)", c.Decoder, StemConv))
		} else if len(c.StemChannels()) < 2 {
			errs = append(errs, fmt.Errorf("decoder %q needs patch_size of at least 4, got %d", c.Decoder, c.PatchSize))
		}
		if c.HeadHidden != 0 {
			errs = append(errs, fmt.Errorf("decoder %q replaces the output head: head_hidden must be 0", c.Decoder))
		}
		return errs
	default:
		return []error{fmt.Errorf("unknown decoder %q (known: %q, %q, %q)", c.Decoder, DecoderLinear, DecoderUNet, DecoderUNetLinear)}
	}
}

// DecoderChannels are the output widths of the UNet decoder's stages, from the token grid's resolution x2 up to
// the image size: half the stem's width at each stage's resolution, at least minDecoderChannels, and the last
// (full-size) stage as wide as the one before: 64, 32, 16, 16 for small (stem 32, 64, 128, 256). Nil for the
// linear decoder.
func (c Config) DecoderChannels() []int {
	stem := c.StemChannels()
	if !c.HasUNet() || len(stem) < 2 {
		return nil
	}
	var chans []int
	for i := len(stem) - 2; i >= 0; i-- {
		chans = append(chans, max(stem[i]/2, minDecoderChannels))
	}
	return append(chans, chans[len(chans)-1])
}

// minDecoderChannels is the narrowest UNet decoder stage: a per-pixel norm over fewer channels is degenerate (over
// two it outputs +-1).
const minDecoderChannels = 8

// DecoderStage is one stage of the UNet decoder: at resolution Side x Side it takes the upsampled map
// concatenated with a skip connection of Skip channels (In in all) and outputs Out channels.
type DecoderStage struct {
	Side, Skip, In, Out int
}

// DecoderStages lists the UNet decoder's stages from the token grid up to the image size (nil for the linear
// decoder). The skip of each stage is the stem's feature map of its resolution, the input image at full size.
func (c Config) DecoderStages() []DecoderStage {
	stem := c.StemChannels()
	side, in := c.ImageSize/c.PatchSize, c.EmbedSize
	var stages []DecoderStage
	for i, out := range c.DecoderChannels() {
		side *= 2
		skip := c.InChannels
		if j := len(stem) - 2 - i; j >= 0 {
			skip = stem[j]
		}
		stages = append(stages, DecoderStage{Side: side, Skip: skip, In: in + skip, Out: out})
		in = out
	}
	return stages
}

// StemChannels are the output widths of the convolutional stem's stride-2 layers, one per halving of the image
// side down to the patch grid, doubling up to EmbedSize: E/8, E/4, E/2, E for patch 16. Nil for the linear stem.
func (c Config) StemChannels() []int {
	if c.Stem != StemConv {
		return nil
	}
	var chans []int
	for w := c.EmbedSize / (c.PatchSize / 2); w <= c.EmbedSize; w *= 2 {
		chans = append(chans, w)
	}
	return chans
}

// NumPatches is the number of patches per image (the sequence length).
func (c Config) NumPatches() int { g := c.ImageSize / c.PatchSize; return g * g }

// PatchDim is the length of one flattened input patch: in_channels*patch*patch.
func (c Config) PatchDim() int { return c.InChannels * c.PatchSize * c.PatchSize }

// OutPatchDim is the length of one output patch before folding: classes*patch*patch.
func (c Config) OutPatchDim() int { return c.Classes * c.PatchSize * c.PatchSize }

// HeadDim is the per-head attention width.
func (c Config) HeadDim() int { return c.EmbedSize / c.Heads }

func (c Config) validateSegFormer() error {
	errs := positive(namedInt{"image_size", c.ImageSize}, namedInt{"in_channels", c.InChannels},
		namedInt{"classes", c.Classes})
	if c.ImageSize%32 != 0 {
		errs = append(errs, fmt.Errorf("segformer: image_size %d is not divisible by 32 (the last stage's stride)", c.ImageSize))
	}
	if c.PatchSize != 0 || c.HeadHidden != 0 || c.Stem != StemLinear || c.Decoder != DecoderLinear {
		errs = append(errs, errors.New("segformer: patch_size, head_hidden, stem and decoder are ViT options"))
	}
	return errors.Join(append(errs, c.commonErrors()...)...)
}
