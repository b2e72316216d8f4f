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
	// Mask is the model's class ids shown at the photo's full size (nearest-neighbour upsampling, done as the
	// mask is encoded or counted: no full-size mask is built).
	Mask  imaging.UpsampledMask
	Stats imaging.Stats // class area fractions and the pet bounding box, at the full size
}

// Segment runs one batch of prepared images through the model and post-processes each result.
func (s *Session) Segment(ctx context.Context, batch []*Prepared) ([]Segmentation, error) {
	if len(batch) == 0 {
		return nil, nil
	}
	c := s.meta.Config
	images := make([]float32, 0, len(batch)*s.ImageLen())
	for i, p := range batch {
		if len(p.Tensor) != s.ImageLen() {
			return nil, fmt.Errorf("segment: image %d has %d values, model wants %d", i, len(p.Tensor), s.ImageLen())
		}
		images = append(images, p.Tensor...)
	}
	logits, err := s.Run(ctx, images, len(batch))
	if err != nil {
		return nil, err
	}
	out := make([]Segmentation, len(batch))
	for i, p := range batch {
		m, err := imaging.MaskFromLogits(logits[i*s.LogitsLen():(i+1)*s.LogitsLen()], c.Classes, c.ImageSize, c.ImageSize)
		if err != nil {
			return nil, err
		}
		u := imaging.UpsampledMask{Base: m, Width: p.Width, Height: p.Height}
		out[i] = Segmentation{Mask: u, Stats: u.Stats(c.Classes)}
	}
	return out, nil
}
