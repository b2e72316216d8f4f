package pipeline

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/vitseg/vitseg/events"
)

// fetch downloads one object (bounded by Limits.MaxBytes), retrying transient failures.
func (p *Pipeline) fetch(ctx context.Context, j *job) bool {
	err := checkObjectName(s3Get, j.ref.Key)
	if err == nil {
		err = p.retry.s3Get.do(ctx, func() error { return p.noteS3(p.getObject(ctx, j)) })
	}
	if err != nil {
		var pe errPermanent
		if errors.As(err, &pe) {
			p.failJob(ctx, j, pe.class, err)
		} else {
			p.log.Warn("fetch abandoned at shutdown; the message stays uncommitted", zap.Stringer("object", j.ref), zap.Error(err))
		}
		return false
	}
	j.fetched = time.Now()
	p.observeStage("fetch", j, j.fetched.Sub(j.received))
	return true
}

// getObject makes one attempt at downloading j's object; its error is classified (classifyS3).
func (p *Pipeline) getObject(ctx context.Context, j *job) error {
	limit := p.cfg.Limits.MaxBytes
	obj, err := p.deps.Store.Get(ctx, j.ref.Bucket, j.ref.Key, limit)
	if err != nil {
		return classifyS3(s3Get, err)
	}
	if obj.Size > limit || int64(len(obj.Data)) > limit {
		return errPermanent{events.ClassTooLarge, fmt.Errorf("object is %d bytes, over the limit of %d",
			max(obj.Size, int64(len(obj.Data))), limit)}
	}
	p.s3OK.Store(true)
	j.data, j.etag, j.size = obj.Data, obj.ETag, obj.Size
	return nil
}

// noteS3 passes a classified S3 error through; a transient one asks the prober to check S3 now, so that
// readiness follows the dependency's health (its probe), never one item's failures.
func (p *Pipeline) noteS3(err error) error {
	if err != nil && isTransient(err) {
		select {
		case p.probeNow <- struct{}{}:
		default:
		}
	}
	return err
}
