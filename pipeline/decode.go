package pipeline

import (
	"context"
	"errors"
	"time"

	"github.com/vitseg/vitseg/events"
	"github.com/vitseg/vitseg/model"
	"github.com/vitseg/vitseg/model/imaging"
	"github.com/vitseg/vitseg/model/inference"
)

// decode pre-processes one image; undecodable or oversized images are dead-lettered.
func (p *Pipeline) decode(ctx context.Context, j *job) bool {
	size := p.currentImageSize()
	prep, err := inference.Prepare(j.data, size,
		imaging.DecodeOptions{Limits: p.cfg.Limits, IgnoreOrientation: p.cfg.IgnoreOrientation})
	j.data = nil
	if err != nil {
		class := events.ClassBadImage
		if errors.Is(err, imaging.ErrTooLarge) || errors.Is(err, imaging.ErrTooManyPixels) {
			class = events.ClassTooLarge
		}
		p.failJob(ctx, j, class, err)
		return false
	}
	prep.Image = nil // Only the tensor and the size travel on: the decoded photo would stay in memory until written.
	j.prepared = prep
	j.decoded = time.Now()
	p.observeStage("decode", j, j.decoded.Sub(j.fetched))
	return true
}

func (p *Pipeline) currentImageSize() int {
	if c, ok := p.modelCfg.Load().(model.Config); ok {
		return c.ImageSize
	}
	return 128
}
