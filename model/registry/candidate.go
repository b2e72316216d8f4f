package registry

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"go.uber.org/zap"
)

// CandidateFile names the candidate pointer under the model prefix, beside current.json.
const CandidateFile = "candidate.json"

// Outcomes of a Decision.
const (
	// OutcomePromoted: the candidate was made current.
	OutcomePromoted = "promoted"
	// OutcomeRejected: the candidate was rejected; it stays in the registry with StatusRejected.
	OutcomeRejected = "rejected"
	// OutcomeRolledBack: a promoted version was taken back (Registry.RollbackFrom).
	OutcomeRolledBack = "rolled_back"
)

// Decision is a verdict on a candidate, or on a promoted version (a rollback).
type Decision struct {
	Version string `json:"version"`
	Outcome string `json:"outcome"`
	Reason  string `json:"reason"`
	// Automatic is true when serve's lifecycle policy decided, false when an operator did.
	Automatic bool      `json:"automatic"`
	At        time.Time `json:"at"`
}

// CandidatePointer is the content of candidate.json: the version under shadow evaluation, if any, and the last
// decision taken on a candidate.
type CandidatePointer struct {
	// Version is the candidate ("" when there is none).
	Version string `json:"version"`
	// Base is the version that was current when the candidate was proposed.
	Base      string    `json:"base,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
	// Last is the last decision taken on a candidate (nil before the first).
	Last *Decision `json:"last_decision,omitempty"`
}

func (r *Registry) candidateKey() string {
	return r.modelPrefix() + CandidateFile
}

// Candidate returns candidate.json; its Version is "" when there is no candidate (also when the file does not
// exist).
func (r *Registry) Candidate(ctx context.Context) (CandidatePointer, error) {
	c, _, err := readJSON[CandidatePointer](ctx, r, r.candidateKey())
	if errors.Is(err, fs.ErrNotExist) {
		return CandidatePointer{}, nil
	}
	return c, err
}

// Propose makes version the candidate, compared with the current version by serve's shadow evaluation. The
// version must be complete and have StatusShadow (Publish with PublishOptions.Candidate sets it). A candidate it
// replaces is rejected as superseded. Like current.json, candidate.json is written by compare-and-swap.
func (r *Registry) Propose(ctx context.Context, version string) (CandidatePointer, error) {
	meta, err := r.Get(ctx, version)
	if err != nil {
		return CandidatePointer{}, err
	}
	if meta.Status != StatusShadow {
		return CandidatePointer{}, fmt.Errorf("registry: version %s has status %q, a candidate needs %q", version, meta.Status, StatusShadow)
	}
	if err := r.checkComplete(ctx, meta); err != nil {
		return CandidatePointer{}, err
	}
	cur, err := r.Current(ctx)
	if err != nil {
		return CandidatePointer{}, fmt.Errorf("registry: a candidate needs a current version: %w", err)
	}
	superseded := ""
	next, err := updateJSON(ctx, r, r.candidateKey(), func(c CandidatePointer, _ bool) (CandidatePointer, bool, error) {
		superseded = ""
		if c.Version == version {
			return c, false, nil
		}
		superseded = c.Version
		return CandidatePointer{Version: version, Base: cur.Version, UpdatedAt: time.Now().UTC(), Last: c.Last}, true, nil
	})
	if err != nil {
		return CandidatePointer{}, err
	}
	r.log.Info("candidate proposed", zap.String("version", version), zap.String("base", cur.Version))
	if superseded != "" {
		if err := r.SetStatus(ctx, superseded, StatusRejected, "superseded by candidate "+version); err != nil {
			r.log.Warn("marking the superseded candidate rejected", zap.String("version", superseded), zap.Error(err))
		}
	}
	return next, nil
}

// Resolve records decision d (OutcomePromoted or OutcomeRejected) on the candidate d.Version and clears the
// candidate, by compare-and-swap on candidate.json: of several replicas deciding at once exactly one gets true;
// the others, and a call for a version that is no longer the candidate, get false and change nothing. The one
// that wins then promotes the version (Promote) or marks it StatusRejected with d.Reason.
func (r *Registry) Resolve(ctx context.Context, d Decision) (bool, error) {
	if d.Outcome != OutcomePromoted && d.Outcome != OutcomeRejected {
		return false, fmt.Errorf("registry: a candidate is promoted or rejected, not %q", d.Outcome)
	}
	if d.At.IsZero() {
		d.At = time.Now().UTC()
	}
	won := false
	_, err := updateJSON(ctx, r, r.candidateKey(), func(c CandidatePointer, _ bool) (CandidatePointer, bool, error) {
		won = c.Version != "" && c.Version == d.Version
		if !won {
			return c, false, nil
		}
		return CandidatePointer{Base: c.Base, UpdatedAt: d.At, Last: &d}, true, nil
	})
	if err != nil || !won {
		return false, err
	}
	r.log.Info("candidate decided", zap.String("version", d.Version), zap.String("outcome", d.Outcome),
		zap.Bool("automatic", d.Automatic), zap.String("reason", d.Reason))
	if d.Outcome == OutcomeRejected {
		return true, r.SetStatus(ctx, d.Version, StatusRejected, d.Reason)
	}
	if _, err := r.Promote(ctx, d.Version); err != nil {
		return true, fmt.Errorf("registry: candidate %s decided promoted but not made current: %w", d.Version, err)
	}
	return true, r.SetStatus(ctx, d.Version, StatusPublished, d.Reason)
}

// SetStatus rewrites the status and reason of version's metadata.json.
func (r *Registry) SetStatus(ctx context.Context, version, status, reason string) error {
	if err := checkStatus(status); err != nil {
		return err
	}
	meta, err := r.Get(ctx, version)
	if err != nil {
		return err
	}
	meta.Status, meta.Reason = status, reason
	return r.putMetadata(ctx, meta)
}

// MarkRolledBack marks version, taken back after an automatic promotion, StatusRejected with the reason and
// NoAutoPromote, so that the lifecycle policy never promotes it again.
func (r *Registry) MarkRolledBack(ctx context.Context, version, reason string) error {
	meta, err := r.Get(ctx, version)
	if err != nil {
		return err
	}
	meta.Status, meta.Reason, meta.NoAutoPromote = StatusRejected, "rolled back: "+reason, true
	return r.putMetadata(ctx, meta)
}
