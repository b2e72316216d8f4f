package inference

import (
	"bytes"
	"context"
	"fmt"
	"image"

	"github.com/vitseg/vitseg/model/imaging"
)

// Prepared is one decoded image, pre-processed for the model.
type Prepared struct {
	Width, Height int // original size
	Format        imaging.Format
	Image         *image.RGBA // the decoded photo, kept for overlays
	Tensor        []float32   // CHW in 0..1 at the model resolution
}

// Prepare decodes data within lim and resizes it to size x size (see imaging.ToTensor for the filter).
func Prepare(data []byte, size int, lim imaging.Limits) (*Prepared, error) {
	dec, err := imaging.Decode(bytes.NewReader(data), lim)
	if err != nil {
		return nil, err
	}
	p := &Prepared{Width: dec.Width, Height: dec.Height, Format: dec.Format, Image: dec.Image,
		Tensor: make([]float32, 3*size*size)}
	if err := imaging.ToTensor(dec.Image, size, p.Tensor); err != nil {
		return nil, err
	}
	return p, nil
}

// Segmentation is the result for one image.
type Segmentation struct {
	Mask  *imaging.Mask // class ids at the original resolution (nearest-neighbour upsampling)
	Stats imaging.Stats // class area fractions and the pet bounding box, at the original resolution
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
		full := imaging.ResizeMask(m, p.Width, p.Height)
		out[i] = Segmentation{Mask: full, Stats: imaging.ComputeStats(full, c.Classes)}
	}
	return out, nil
}
