package model

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// PartParams is the number of trainable parameters of one named part of the network.
type PartParams struct {
	Part   string
	Params int
}

// ParamsByPart returns the trainable parameter count of each part, in network order, computed analytically with
// the same layer shapes as the article's PyTorch modules (BatchNorm2d affine, Linear with bias, LayerNorm affine,
// nn.MultiheadAttention in/out projections with bias).
func (c Config) ParamsByPart() []PartParams {
	if c.Architecture == ArchSegFormer {
		return c.segformerParams()
	}
	e := c.EmbedSize
	linear := func(in, out int) int { return in*out + out }
	block := 2*e + // ln1
		linear(e, 3*e) + linear(e, e) + // attention in/out projections
		2*e + // ln2
		linear(e, 4*e) + linear(4*e, e) // MLP
	return []PartParams{
		{"batch_norm", 2 * c.InChannels},
		c.stemParams(linear),
		{"position_embedding", c.NumPatches() * e},
		{fmt.Sprintf("encoder_blocks (%d x %s)", c.Blocks, groupDigits(block)), c.Blocks * block},
		c.headParams(linear),
	}
}

// stemParams is the patch embedding: the article's Linear(C*p*p, E), or the convolutional stem (bias-free 3x3
// convolutions, BatchNorm2d affine, and the Linear(E, E) projection).
func (c Config) stemParams(linear func(in, out int) int) PartParams {
	chans := c.StemChannels()
	if chans == nil {
		return PartParams{"patch_embedding", linear(c.PatchDim(), c.EmbedSize)}
	}
	n, in := 0, c.InChannels
	for _, out := range chans {
		n += 9*in*out + 2*out
		in = out
	}
	return PartParams{fmt.Sprintf("conv_stem (%d x 3x3/2)", len(chans)), n + linear(c.EmbedSize, c.EmbedSize)}
}

// headParams is the output head: the article's Linear(E, classes*patch*patch), the MLP head, or the UNet decoder
// (bias-free 3x3 convolutions over the upsampled map and its skip connection, a channel norm's gain and offset,
// the 1x1 convolution to the classes with bias, and the token classifier Linear(E, classes)).
func (c Config) headParams(linear func(in, out int) int) PartParams {
	if stages := c.DecoderStages(); stages != nil {
		n := 0
		for _, s := range stages {
			n += 9*s.In*s.Out + 2*s.Out
		}
		n += linear(stages[len(stages)-1].Out, c.Classes) // classifier
		if c.Decoder == DecoderUNetLinear {
			n += linear(c.EmbedSize, c.OutPatchDim()) // the article's head
		} else {
			n += linear(c.EmbedSize, c.Classes) // token classifier
		}
		return PartParams{fmt.Sprintf("decoder (%d x up2 + 3x3)", len(stages)), n}
	}
	if c.HeadHidden > 0 {
		return PartParams{"output_head (MLP)", linear(c.EmbedSize, c.HeadHidden) + linear(c.HeadHidden, c.OutPatchDim())}
	}
	return PartParams{"output_projection", linear(c.EmbedSize, c.OutPatchDim())}
}

// NumParams is the total trainable parameter count.
func (c Config) NumParams() int {
	total := 0
	for _, p := range c.ParamsByPart() {
		total += p.Params
	}
	return total
}

// FLOPsPerImage is the analytic forward-pass cost of one image, counting a multiply-add as 2 FLOPs, for the
// matrix products only (linear layers and attention); element-wise work is negligible in comparison.
func (c Config) FLOPsPerImage() float64 {
	if c.Architecture == ArchSegFormer {
		return 0 // not computed analytically
	}
	t, e := float64(c.NumPatches()), float64(c.EmbedSize)
	linear := func(in, out float64) float64 { return 2 * t * in * out }
	attention := 2 * 2 * t * t * e // Q·Kᵀ and A·V over all heads
	block := linear(e, 3*e) + attention + linear(e, e) + linear(e, 4*e) + linear(4*e, e)
	head := linear(e, float64(c.OutPatchDim()))
	if h := float64(c.HeadHidden); h > 0 {
		head = linear(e, h) + linear(h, float64(c.OutPatchDim()))
	}
	if c.HasUNet() {
		head = c.decoderFLOPs()
	}
	return c.stemFLOPs() + float64(c.Blocks)*block + head
}

// decoderFLOPs is the UNet decoder's share of FLOPsPerImage: its convolutions and the bilinear resizes (two
// matrix products per stage, one per image axis).
func (c Config) decoderFLOPs() float64 {
	var f, side, out float64
	for _, s := range c.DecoderStages() {
		side, out = float64(s.Side), float64(s.Out)
		up := float64(s.In - s.Skip)                  // channels resized from side/2 to side
		f += 12 * up * side / 2 * side / 2 * side / 2 // two matrix products: 4*C*n^3 along x, 8*C*n^3 along y (n = side/2)
		f += 2 * side * side * 9 * float64(s.In) * out
	}
	grid, classes := float64(c.ImageSize/c.PatchSize), float64(c.Classes)
	if c.Decoder == DecoderUNetLinear {
		f += 2 * grid * grid * float64(c.EmbedSize) * float64(c.OutPatchDim()) // the article's head
	} else {
		f += 2 * grid * grid * float64(c.EmbedSize) * classes // token classifier
		f += 2 * classes * grid * side * (grid + side)        // its logits resized to the image size
	}
	return f + 2*side*side*out*classes
}

// stemFLOPs is the patch embedding's share of FLOPsPerImage.
func (c Config) stemFLOPs() float64 {
	t, e := float64(c.NumPatches()), float64(c.EmbedSize)
	chans := c.StemChannels()
	if chans == nil {
		return 2 * t * float64(c.PatchDim()) * e
	}
	f, in, side := 2*t*e*e, float64(c.InChannels), float64(c.ImageSize)
	for _, out := range chans {
		side /= 2
		f += 2 * side * side * 9 * in * float64(out)
		in = float64(out)
	}
	return f
}

// Stage is one step of the forward pass and the shape of its output.
type Stage struct {
	Name  string
	Shape []int
}

// String formats the stage as "name (d0, d1, ...)".
func (s Stage) String() string { return fmt.Sprintf("%s %s", s.Name, FormatShape(s.Shape)) }

// FormatShape formats dimensions as PyTorch prints them: (1, 64, 768).
func FormatShape(dims []int) string {
	parts := make([]string, len(dims))
	for i, d := range dims {
		parts[i] = fmt.Sprint(d)
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// WriteSummary prints the shape trace and the parameter counts, as the article's Figure 7 does.
func WriteSummary(w io.Writer, name string, c Config, trace []Stage) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if c.Architecture == ArchSegFormer {
		fmt.Fprintf(tw, "model %s: SegFormer-B0, image %dx%d, stages at 1/4, 1/8, 1/16, 1/32, decoder %d, dropout %g",
			name, c.ImageSize, c.ImageSize, SegFormerDecoderDim, c.Dropout)
	} else {
		fmt.Fprintf(tw, "model %s: image %dx%d, patch %d, embed %d, blocks %d, heads %d, dropout %g",
			name, c.ImageSize, c.ImageSize, c.PatchSize, c.EmbedSize, c.Blocks, c.Heads, c.Dropout)
	}
	if c.HeadHidden > 0 {
		fmt.Fprintf(tw, ", MLP head %d", c.HeadHidden)
	}
	if c.Stem != StemLinear {
		fmt.Fprintf(tw, ", %s stem", c.Stem)
	}
	if c.Decoder != DecoderLinear {
		fmt.Fprintf(tw, ", %s decoder %v", c.Decoder, c.DecoderChannels())
	}
	if c.DropPath > 0 {
		fmt.Fprintf(tw, ", drop path %g", c.DropPath)
	}
	fmt.Fprint(tw, "\n\n")
	fmt.Fprintln(tw, "stage\toutput shape")
	for _, s := range trace {
		fmt.Fprintf(tw, "%s\t%s\n", s.Name, FormatShape(s.Shape))
	}
	fmt.Fprintln(tw, "\npart\tparameters")
	for _, p := range c.ParamsByPart() {
		fmt.Fprintf(tw, "%s\t%s\n", p.Part, groupDigits(p.Params))
	}
	fmt.Fprintf(tw, "total\t%s\n", groupDigits(c.NumParams()))
	if f := c.FLOPsPerImage(); f > 0 {
		fmt.Fprintf(tw, "forward GFLOP per image\t%.2f\n", f/1e9)
	}
	return tw.Flush()
}

func groupDigits(n int) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}
