package pipeline

import (
	"context"
	"errors"
	"fmt"

	"github.com/vitseg/vitseg/model/imaging"
	"github.com/vitseg/vitseg/model/inference"
	"github.com/vitseg/vitseg/model/lifecycle"
	"github.com/vitseg/vitseg/model/registry"
)

// labelScores are the pixel accuracies of the serving model and of the candidate on one labeled photo.
type labelScores struct {
	current      string
	currentAcc   float64
	candidate    string // "" when no candidate was scored
	candidateAcc float64
	runner       *shadowRunner // the candidate's runner, which counts its figures
}

// byVersion returns the accuracies by version, for the label's marker.
func (s labelScores) byVersion() map[string]float64 {
	out := map[string]float64{s.current: s.currentAcc}
	if s.candidate != "" {
		out[s.candidate] = s.candidateAcc
	}
	return out
}

// scoreVersions segments the photo with the serving model and with the candidate under evaluation, if any,
// each through its lease (a model swapped out or a candidate stopped meanwhile is not used), and scores both
// masks against the trimap at the photo's size.
func (l *lifecycleRun) scoreVersions(ctx context.Context, photo *inference.Prepared, truth *imaging.Mask) (labelScores, error) {
	var s labelScores
	cur := l.p.serving.Load()
	if cur == nil {
		return s, errors.New("no model in use")
	}
	ok, err := cur.use(scoreMask(ctx, photo, truth, &s.currentAcc))
	if err == nil && !ok {
		err = errors.New("swapped out meanwhile")
	}
	if err != nil {
		return s, fmt.Errorf("serving model %s: %w", cur.version, err)
	}
	s.current = cur.version
	r := l.p.shadow.Load()
	if r == nil {
		return s, nil
	}
	ok, err = r.model.use(scoreMask(ctx, photo, truth, &s.candidateAcc))
	if err != nil {
		return s, fmt.Errorf("candidate %s: %w", r.model.version, err)
	}
	if ok {
		s.candidate, s.runner = r.model.version, r
	}
	return s, nil
}

// scoreMask returns the use of a session that segments the photo and sets *acc to the pixel accuracy of its
// mask, at the photo's size as users receive it, against the trimap truth (Compare's pixel agreement with the
// ground truth is the pixel accuracy).
func scoreMask(ctx context.Context, photo *inference.Prepared, truth *imaging.Mask, acc *float64) func(*inference.Session) error {
	return func(sess *inference.Session) error {
		res, err := sess.Segment(ctx, []*inference.Prepared{photo})
		if err != nil {
			return err
		}
		ag, err := lifecycle.Compare(truth, res[0].Mask.Full(), sess.Config().Classes)
		*acc = ag.Pixel
		return err
	}
}

// countLabeled counts the scores of a label in the metrics and in the figures the lifecycle merges into
// shadow.json: the serving version's live figures (the candidate's base, or a version in its rollback window)
// and the candidate's shadow figures.
func (l *lifecycleRun) countLabeled(s labelScores) {
	l.p.live.add(s.current, func(st *registry.LiveStats) { st.Labeled.Observe(s.currentAcc) })
	l.p.metrics.labeledAccuracy.WithLabelValues(s.current).Observe(s.currentAcc)
	if s.runner == nil {
		return
	}
	s.runner.count(func(st *registry.ShadowStats) { st.Labeled.Observe(s.candidateAcc) })
	l.p.metrics.labeledAccuracy.WithLabelValues(s.candidate).Observe(s.candidateAcc)
}
