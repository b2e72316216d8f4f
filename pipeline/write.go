package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/vitseg/vitseg/events"
	"github.com/vitseg/vitseg/model"
	"github.com/vitseg/vitseg/model/registry"
)

// write stores the mask PNG and then produces the result event; only then is the reference finished.
func (p *Pipeline) write(ctx context.Context, j *job) bool {
	mask, ok := p.putMask(ctx, j)
	if !ok {
		return false
	}
	written := time.Now()
	p.observeStage("write", j, written.Sub(j.inferred))
	if !p.publishResult(ctx, j, resultEvent(j, mask, written)) {
		return false
	}
	p.metrics.processed.Inc()
	p.live.add(j.model.version, func(s *registry.LiveStats) { s.Results++ })
	total := time.Since(j.received)
	p.observeStage("total", j, total)
	p.batching.finished(total - j.inferred.Sub(j.decoded)) // the rest: all but the batcher's wait and inference
	p.finishJob(j)
	return true
}

// putMask encodes j's mask and stores it (retrying transient S3 failures); a permanent failure dead-letters
// the job. It reports where the mask went and whether it was written.
func (p *Pipeline) putMask(ctx context.Context, j *job) (events.MaskRef, bool) {
	var buf bytes.Buffer
	if err := p.masks.Encode(&buf, j.result.Mask); err != nil {
		p.failJob(ctx, j, events.ClassInternal, fmt.Errorf("encode mask: %w", err))
		return events.MaskRef{}, false
	}
	bucket := p.cfg.OutputBucket
	if bucket == "" {
		bucket = j.ref.Bucket
	}
	mask := events.MaskKey(p.cfg.OutputPrefix, j.ref.Key, j.etag, j.model.version)
	meta := map[string]string{
		"vitseg-source": j.ref.Bucket + "/" + j.ref.Key, "vitseg-source-key-sha256": mask.SourceKeyHash,
		"vitseg-source-etag": j.etag, "vitseg-model-version": j.model.version, "vitseg-mask-key-form": string(mask.Form)}
	err := p.retry.s3Put.do(ctx, func() error {
		return p.noteS3(classifyS3(s3Put, p.deps.Store.Put(ctx, bucket, mask.Key, buf.Bytes(), "image/png", meta)))
	})
	if err != nil {
		var pe errPermanent
		if errors.As(err, &pe) {
			p.failJob(ctx, j, pe.class, fmt.Errorf("write mask s3://%s/%s: %w", bucket, mask.Key, err))
		}
		return events.MaskRef{}, false
	}
	return events.MaskRef{Bucket: bucket, Key: mask.Key, KeyForm: mask.Form}, true
}

// resultEvent is the result event of j, its mask written at written.
func resultEvent(j *job, mask events.MaskRef, written time.Time) events.ResultEvent {
	src := events.Source{Bucket: j.ref.Bucket, Key: j.ref.Key, ETag: j.etag, Size: j.size}
	ev := events.NewResult(src, events.ModelRef{Name: j.model.name, Version: j.model.version}, mask, written)
	ev.Image = events.ImageSize{Width: j.prepared.Width, Height: j.prepared.Height, Orientation: int(j.prepared.Orientation)}
	st := j.result.Stats
	frac := func(c int) float64 {
		if c < len(st.Fractions) {
			return st.Fractions[c]
		}
		return 0
	}
	ev.ClassFractions = events.ClassFractions{Pet: frac(model.ClassPet), Background: frac(model.ClassBackground),
		Border: frac(model.ClassBorder)}
	if b := st.PetBBox; b != nil {
		ev.PetBBox = &events.BBox{X0: b.X0, Y0: b.Y0, X1: b.X1, Y1: b.Y1}
	}
	ev.TimingsMS = events.Timings{Queue: events.Millis(j.batched.Sub(j.decoded)),
		Fetch: events.Millis(j.fetched.Sub(j.received)), Decode: events.Millis(j.decoded.Sub(j.fetched)),
		Infer: events.Millis(j.inferred.Sub(j.batched)), Total: events.Millis(written.Sub(j.received))}
	return ev
}

// publishResult produces ev (retrying transient failures); a permanent failure (too large, invalid)
// dead-letters the job. It reports whether the event was written.
func (p *Pipeline) publishResult(ctx context.Context, j *job, ev events.ResultEvent) bool {
	err := p.retry.produceResult.do(ctx, func() error {
		err := p.deps.Writer.PublishResults(ctx, ev)
		if tooLarge(err) || errors.Is(err, events.ErrInvalidEvent) {
			// Over the result topic's message limit, or refused by the writer's validation: retrying cannot help.
			return errPermanent{events.ClassInternal, err}
		}
		return err
	})
	if err != nil {
		var pe errPermanent
		if errors.As(err, &pe) {
			p.failJob(ctx, j, pe.class, fmt.Errorf("result event: %w", err))
		} else {
			p.log.Warn("result event abandoned at shutdown; the message stays uncommitted", zap.Error(err))
		}
		return false
	}
	return true
}
