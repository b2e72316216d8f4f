package inference

import (
	"context"
	"fmt"
	"image"

	"github.com/vitseg/vitseg/model/imaging"
)

// Prepared is one decoded image, pre-processed for the model.
type Prepared struct {
	Width, Height int                 // full size as displayed (after the EXIF orientation)
	Orientation   imaging.Orientation // the EXIF orientation that was applied
	// Image is the decoded photo at the reduced size it was decoded at for
	// the model (see imaging.DecodeOptions.MinSize), at least the model's
	// input size on both sides unless the photo is smaller.
	Image  *image.RGBA
	Tensor []float32 // CHW in 0..1 at the model resolution
}

// Prepare decodes data (opts.MinSize is set to size: JPEGs are decoded at the smallest DCT scale that still
// covers the model's input) and resizes it to size x size (see imaging.ToTensor for the filter).
func Prepare(data []byte, size int, opts imaging.DecodeOptions) (*Prepared, error) {
	opts.MinSize = size
	dec, err := imaging.DecodeWith(data, opts)
	if err != nil {
		return nil, err
	}
	p := &Prepared{Width: dec.Width, Height: dec.Height, Orientation: dec.Orientation,
		Image: dec.Image, Tensor: make([]float32, 3*size*size)}
	if err := imaging.ToTensor(dec.Image, size, p.Tensor); err != nil {
		return nil, err
	}
	return p, nil
}

// Segmentation is the result for one image.
type Segmentation struct {
	// Mask is the class ids at the photo's full size: the model's logits interpolated bilinearly to the photo's
	// size, then arg-maxed (imaging.MaskFromLogitsResized), so that its edges follow the logits, not the model's
	// pixel grid. Its Base is the full-size mask.
	Mask  imaging.UpsampledMask
	Stats imaging.Stats // class area fractions and the pet bounding box, at the full size
}

// Segment runs one batch of prepared images through the model and post-processes each result.
func (s *Session) Segment(ctx context.Context, batch []*Prepared) ([]Segmentation, error) {
	if len(batch) == 0 {
		return nil, nil
	}
	tensors := make([][]float32, len(batch))
	for i, p := range batch {
		tensors[i] = p.Tensor
	}
	logits, err := s.Logits(ctx, tensors)
	if err != nil {
		return nil, err
	}
	out := make([]Segmentation, len(batch))
	for i, p := range batch {
		if out[i], err = s.Postprocess(logits[i], p.Width, p.Height); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Postprocess is Segment's post-processing of one image's logits (LogitsLen values), shown at width x height.
func (s *Session) Postprocess(logits []float32, width, height int) (Segmentation, error) {
	m, err := s.MaskAt(logits, width, height)
	if err != nil {
		return Segmentation{}, err
	}
	u := imaging.UpsampledMask{Base: m, Width: width, Height: height}
	return Segmentation{Mask: u, Stats: u.Stats(s.meta.Config.Classes)}, nil
}

// MaskAt returns the class ids of one image's logits (LogitsLen values) at width x height: bilinear
// interpolation of the logits, then the arg-max (imaging.MaskFromLogitsResized).
func (s *Session) MaskAt(logits []float32, width, height int) (*imaging.Mask, error) {
	c := s.meta.Config
	return imaging.MaskFromLogitsResized(logits, c.Classes, c.ImageSize, c.ImageSize, width, height)
}

// maskOf returns the class ids of one image's logits at the model resolution.
func (s *Session) maskOf(logits []float32) (*imaging.Mask, error) {
	c := s.meta.Config
	return imaging.MaskFromLogits(logits, c.Classes, c.ImageSize, c.ImageSize)
}

// Masks is Logits' class ids at the model resolution, the arg-max of each image's logits.
func (s *Session) Masks(ctx context.Context, tensors [][]float32) ([]*imaging.Mask, error) {
	logits, err := s.Logits(ctx, tensors)
	if err != nil {
		return nil, err
	}
	masks := make([]*imaging.Mask, len(logits))
	for i, l := range logits {
		if masks[i], err = s.maskOf(l); err != nil {
			return nil, err
		}
	}
	return masks, nil
}

// Logits runs tensors (CHW in 0..1 at the model resolution, ImageLen values each) through the model as one
// batch and returns each one's logits (LogitsLen values): the batching loop of serving (Segment) and evaluation
// (training.EvaluateSession). With TTAFlip the batch also holds each image's mirror image, and an image's
// logits are its own plus the mirrored logits of its mirror image.
func (s *Session) Logits(ctx context.Context, tensors [][]float32) ([][]float32, error) {
	n := len(tensors)
	if n == 0 {
		return nil, nil
	}
	side := s.meta.Config.ImageSize
	images := make([]float32, n*s.tta.views()*s.ImageLen())
	for i, t := range tensors {
		if len(t) != s.ImageLen() {
			return nil, fmt.Errorf("segment: image %d has %d values, model wants %d (resolution mismatch)", i, len(t), s.ImageLen())
		}
		copy(images[i*s.ImageLen():], t)
		if s.tta == TTAFlip {
			mirrorRows(images[(n+i)*s.ImageLen():(n+i+1)*s.ImageLen()], t, side)
		}
	}
	logits, err := s.Run(ctx, images, n*s.tta.views())
	if err != nil {
		return nil, err
	}
	out := make([][]float32, n)
	for i := range n {
		own := logits[i*s.LogitsLen() : (i+1)*s.LogitsLen() : (i+1)*s.LogitsLen()]
		if s.tta == TTAFlip {
			mirror := logits[(n+i)*s.LogitsLen() : (n+i+1)*s.LogitsLen()]
			mirrorRows(mirror, mirror, side)
			for j, v := range mirror {
				own[j] += v
			}
		}
		out[i] = own
	}
	return out, nil
}
