package registry

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrNotCandidate reports an operator's decision on a version that is not the candidate.
var ErrNotCandidate = errors.New("registry: not the candidate")

// LifecycleStatus is where a model's lifecycle stands: what `vitseg models status` shows.
type LifecycleStatus struct {
	Current   Pointer          // zero when there is no current version
	Candidate CandidatePointer // Version "" when there is no candidate
	// Summary is the shadow summary of the candidate, else of the last decided one (nil when it has none).
	Summary *ShadowSummary
}

// Lifecycle returns the current pointer, the candidate pointer and the shadow summary of the candidate (or of
// the last decided candidate).
func (r *Registry) Lifecycle(ctx context.Context) (LifecycleStatus, error) {
	var st LifecycleStatus
	cur, err := r.Current(ctx)
	if err != nil && !errors.Is(err, ErrNoCurrent) {
		return st, err
	}
	st.Current = cur
	if st.Candidate, err = r.Candidate(ctx); err != nil {
		return st, err
	}
	version := st.Candidate.Version
	if version == "" && st.Candidate.Last != nil {
		version = st.Candidate.Last.Version
	}
	if version == "" {
		return st, nil
	}
	s, err := r.Shadow(ctx, version)
	switch {
	case errors.Is(err, ErrNoSummary):
	case err != nil:
		return st, err
	default:
		st.Summary = &s
	}
	return st, nil
}

// OperatorPromote makes version current for an operator: the candidate is promoted as a decision (Resolve,
// with reason), any other version is moved to directly (Promote). It returns the pointer now in place.
func (r *Registry) OperatorPromote(ctx context.Context, version, reason string) (Pointer, error) {
	c, err := r.Candidate(ctx)
	if err != nil {
		return Pointer{}, err
	}
	if c.Version != version {
		return r.Promote(ctx, version)
	}
	won, err := r.Resolve(ctx, Decision{Version: version, Outcome: OutcomePromoted, Reason: reason, At: time.Now().UTC()})
	if err != nil {
		return Pointer{}, err
	}
	if !won {
		return Pointer{}, fmt.Errorf("%w: %s was decided concurrently", ErrNotCandidate, version)
	}
	return r.Current(ctx)
}

// OperatorReject rejects the candidate version for an operator, with reason (ErrNotCandidate when version is
// not the candidate).
func (r *Registry) OperatorReject(ctx context.Context, version, reason string) error {
	won, err := r.Resolve(ctx, Decision{Version: version, Outcome: OutcomeRejected, Reason: reason, At: time.Now().UTC()})
	if err != nil {
		return err
	}
	if !won {
		return fmt.Errorf("%w: %s", ErrNotCandidate, version)
	}
	return nil
}
