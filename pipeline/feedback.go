package pipeline

import (
	"context"
	"errors"
	"fmt"

	"go.uber.org/zap"

	"github.com/vitseg/vitseg/consumer"
	"github.com/vitseg/vitseg/events"
	"github.com/vitseg/vitseg/model/imaging"
	"github.com/vitseg/vitseg/model/inference"
	"github.com/vitseg/vitseg/model/registry"
)

// The values of vitseg_lifecycle_labeled_total's result label: what became of a label object.
const (
	labelScored        = "scored"         // the versions were scored, the marker written and the figures counted
	labelAlreadyScored = "already_scored" // the label object had its marker: its figures were counted before
	labelSkipped       = "skipped"        // not usable: no photo served here, an invalid trimap, sizes that differ
	labelFailed        = "failed"         // S3, the registry or inference failed; the label stays unscored
)

func labelResults() []string {
	return []string{labelScored, labelAlreadyScored, labelSkipped, labelFailed}
}

// errLabelUnusable marks a label that can never be scored (labelSkipped).
var errLabelUnusable = errors.New("label not usable")

// feedback is the stage of a label object (labels.go): it scores the serving model's and the candidate's masks
// of the labeled photo against the trimap and finishes the job; it never writes a mask or an event. A label
// abandoned past the drain deadline stays uncommitted.
func (p *Pipeline) feedback(ctx context.Context, j *job) bool {
	result, err := p.scoreLabel(ctx, j)
	if ctx.Err() != nil && result == labelFailed {
		p.log.Warn("label abandoned at shutdown; the message stays uncommitted", zap.Stringer("label", j.ref))
		return false
	}
	p.metrics.labeled.WithLabelValues(result).Inc()
	if err != nil {
		p.log.Warn("label not scored", zap.Stringer("label", j.ref), zap.String("result", result), zap.Error(err))
	}
	p.finishJob(j)
	return false
}

// scoreLabel scores the label object of j once: a label object whose marker exists (registry.MarkScored) is
// not counted again, so that a redelivery or another replica never counts it twice.
func (p *Pipeline) scoreLabel(ctx context.Context, j *job) (string, error) {
	l := p.lifecycle
	tri, err := p.getLabeled(ctx, j.ref.Bucket, j.ref.Key)
	if err != nil {
		return labelResult(err), fmt.Errorf("trimap: %w", err)
	}
	switch done, err := l.reg.IsScored(ctx, j.ref.Bucket, j.ref.Key, tri.ETag); {
	case err != nil:
		return labelFailed, err
	case done:
		return labelAlreadyScored, nil
	}
	truth, err := imaging.DecodeTrimap(tri.Data)
	if err != nil {
		return labelSkipped, err
	}
	photo, err := p.labeledPhoto(ctx, j.ref, truth)
	if err != nil {
		return labelResult(err), err
	}
	s, err := l.scoreVersions(ctx, photo, truth)
	if err != nil {
		return labelFailed, err
	}
	won, err := l.reg.MarkScored(ctx, registry.ScoredLabel{Bucket: j.ref.Bucket, Key: j.ref.Key, ETag: tri.ETag,
		Accuracy: s.byVersion()})
	switch {
	case err != nil:
		return labelFailed, err
	case !won:
		return labelAlreadyScored, nil
	}
	l.countLabeled(s)
	return labelScored, nil
}

// labelResult is the result of a label that failed with err: skipped when it can never be scored (an object
// missing, too large or refused), failed otherwise (retries exhausted included).
func labelResult(err error) string {
	var pe errPermanent
	if errors.Is(err, errLabelUnusable) || errors.As(err, &pe) && pe.class != events.ClassRetriesExhausted {
		return labelSkipped
	}
	return labelFailed
}

// getLabeled reads a trimap or a labeled photo whole, retrying transient failures as fetch does.
func (p *Pipeline) getLabeled(ctx context.Context, bucket, key string) (Object, error) {
	var obj Object
	err := p.retry.s3Get.do(ctx, func() error {
		o, err := p.deps.Store.Get(ctx, bucket, key, p.cfg.Limits.MaxBytes)
		if err != nil {
			return p.noteS3(classifyS3(s3Get, err))
		}
		if o.Data == nil {
			return errPermanent{events.ClassTooLarge, fmt.Errorf("%s/%s is %d bytes, over the limit", bucket, key, o.Size)}
		}
		obj = o
		return nil
	})
	return obj, err
}

// labeledPhoto reads and decodes the photo of the trimap at ref, as the live path does: it must be an object
// the pipeline serves (Filter) and have the trimap's size.
func (p *Pipeline) labeledPhoto(ctx context.Context, ref consumer.ImageRef, truth *imaging.Mask) (*inference.Prepared, error) {
	for _, key := range p.lifecycle.labels.photoKeys(ref.Key) {
		photo := consumer.ImageRef{Bucket: ref.Bucket, Key: key}
		if err := p.filter.Check(photo); err != nil {
			return nil, fmt.Errorf("%w: photo %s is not served here: %w", errLabelUnusable, photo, err)
		}
		o, err := p.getLabeled(ctx, photo.Bucket, photo.Key)
		var pe errPermanent
		if errors.As(err, &pe) && pe.class == events.ClassMissingObject {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("photo %s: %w", photo, err)
		}
		prep, err := inference.Prepare(o.Data, p.currentImageSize(),
			imaging.DecodeOptions{Limits: p.cfg.Limits, IgnoreOrientation: p.cfg.IgnoreOrientation})
		if err != nil {
			return nil, fmt.Errorf("%w: photo %s: %w", errLabelUnusable, photo, err)
		}
		if prep.Width != truth.Width || prep.Height != truth.Height {
			return nil, fmt.Errorf("%w: photo %s is %dx%d, its trimap %dx%d", errLabelUnusable, photo,
				prep.Width, prep.Height, truth.Width, truth.Height)
		}
		prep.Image = nil
		return prep, nil
	}
	return nil, fmt.Errorf("%w: no photo for it under %s%s", errLabelUnusable, p.lifecycle.labels, labelPhotosDir)
}
