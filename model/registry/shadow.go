package registry

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"time"
)

// ShadowFile names a candidate's shadow summary in its version prefix.
const ShadowFile = "shadow.json"

// ShadowStats are a candidate's figures from shadow evaluation: its inference on sampled live images, compared
// with the current model's masks of the same images.
type ShadowStats struct {
	Images  int64 `json:"images"`  // images compared
	Errors  int64 `json:"errors"`  // shadow inferences that failed
	Dropped int64 `json:"dropped"` // sampled images dropped because the shadow queue was full
	// Sums over the compared images of the pixel agreement, the mean IoU over the classes of either mask, and
	// the absolute difference of the pet area fractions.
	AgreementSum   float64 `json:"agreement_sum"`
	MeanIoUSum     float64 `json:"mean_iou_sum"`
	PetAreaDiffSum float64 `json:"pet_area_diff_sum"`
	// Latency is the candidate's inference time per image (its batch's time over the batch size).
	Latency Histogram `json:"latency"`
	// Labeled is the candidate's pixel accuracy on the labeled photos scored while it was evaluated.
	Labeled LabeledStats `json:"labeled"`
}

// Add adds o's figures.
func (s *ShadowStats) Add(o ShadowStats) {
	s.Images += o.Images
	s.Errors += o.Errors
	s.Dropped += o.Dropped
	s.AgreementSum += o.AgreementSum
	s.MeanIoUSum += o.MeanIoUSum
	s.PetAreaDiffSum += o.PetAreaDiffSum
	s.Latency.Add(o.Latency)
	s.Labeled.Add(o.Labeled)
}

// Mean returns the mean of a sum over the compared images (0 without images).
func (s ShadowStats) Mean(sum float64) float64 {
	if s.Images == 0 {
		return 0
	}
	return sum / float64(s.Images)
}

// LiveStats are a serving version's figures on the live path.
type LiveStats struct {
	Images      int64 `json:"images"`       // images through inference
	InferErrors int64 `json:"infer_errors"` // images whose inference failed
	Results     int64 `json:"results"`      // results written
	DeadLetters int64 `json:"dead_letters"` // dead letters written, any class
	// Latency is the inference time per image (its batch's time over the batch size).
	Latency Histogram `json:"latency"`
	// Labeled is the version's pixel accuracy on the labeled photos scored while it served.
	Labeled LabeledStats `json:"labeled"`
}

// Add adds o's figures.
func (l *LiveStats) Add(o LiveStats) {
	l.Images += o.Images
	l.InferErrors += o.InferErrors
	l.Results += o.Results
	l.DeadLetters += o.DeadLetters
	l.Latency.Add(o.Latency)
	l.Labeled.Add(o.Labeled)
}

// ShadowSummary is the content of a candidate's shadow.json: the figures of every replica, merged.
type ShadowSummary struct {
	Version string      `json:"version"` // the candidate
	Base    string      `json:"base"`    // the current version it is compared with
	Shadow  ShadowStats `json:"shadow"`
	// Current are the base version's live figures while the candidate was evaluated.
	Current LiveStats `json:"current"`
	// Promoted are the version's own live figures after it was promoted automatically, during the rollback
	// window.
	Promoted LiveStats `json:"promoted"`
	// Decision is the decision on the candidate; Rollback the automatic rollback of the promoted version.
	Decision  *Decision `json:"decision,omitempty"`
	Rollback  *Decision `json:"rollback,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
}

func (r *Registry) shadowKey(version string) string {
	return r.versionKey(version, ShadowFile)
}

// Shadow returns version's shadow.json (ErrNoSummary if it has none).
func (r *Registry) Shadow(ctx context.Context, version string) (ShadowSummary, error) {
	if _, err := ParseVersion(version); err != nil {
		return ShadowSummary{}, err
	}
	s, _, err := readJSON[ShadowSummary](ctx, r, r.shadowKey(version))
	if errors.Is(err, fs.ErrNotExist) {
		return ShadowSummary{}, fmt.Errorf("%w: %s", ErrNoSummary, version)
	}
	return s, err
}

// UpdateShadow changes version's shadow.json by compare-and-swap: fn gets the summary as stored (with Version
// set, and exists false when there is none yet), changes it and reports whether to write it. When another
// replica wrote in between, fn runs again on the new summary, so it must apply its change to what it is given
// (add a delta, not set a total). It returns the summary in place.
func (r *Registry) UpdateShadow(ctx context.Context, version string, fn func(s *ShadowSummary, exists bool) (bool, error)) (ShadowSummary, error) {
	if _, err := ParseVersion(version); err != nil {
		return ShadowSummary{}, err
	}
	return updateJSON(ctx, r, r.shadowKey(version), func(s ShadowSummary, exists bool) (ShadowSummary, bool, error) {
		s.Version = version
		write, err := fn(&s, exists)
		if write {
			s.UpdatedAt = time.Now().UTC()
		}
		return s, write, err
	})
}
