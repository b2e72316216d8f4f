package lifecycle

import (
	"fmt"
	"time"

	"github.com/vitseg/vitseg/model/registry"
)

// RollbackPolicy decides, during a window after an automatic promotion, whether the promoted version regressed
// against the version it replaced, each measured on the live path (registry.ShadowSummary's Promoted against
// its Current).
type RollbackPolicy struct {
	// Window is how long after the promotion the version is watched.
	Window time.Duration
	// MinImages is how many outcomes (results and dead letters) of the promoted version it waits for.
	MinImages int64
	// MaxDeadLetterIncrease is the largest tolerated increase of the dead-letter rate (dead letters over
	// results and dead letters), as an absolute difference.
	MaxDeadLetterIncrease float64
	// LatencyFactor bounds the promoted version's p99 inference time per image by this factor of the
	// replaced version's.
	LatencyFactor float64
	// MinLabeled is how many labeled photos the promoted version must have been scored on before its live
	// labeled accuracy is compared with the replaced version's (recorded while it was the candidate's base);
	// 0 never compares them.
	MinLabeled int64
	// MaxAccuracyDrop is the largest tolerated drop of the live labeled pixel accuracy, as an absolute
	// difference.
	MaxAccuracyDrop float64
}

// Watching reports whether s is a version promoted automatically less than Window before now, not yet rolled
// back.
func (p RollbackPolicy) Watching(s registry.ShadowSummary, now time.Time) bool {
	d := s.Decision
	return d != nil && d.Automatic && d.Outcome == registry.OutcomePromoted && s.Rollback == nil &&
		now.Sub(d.At) < p.Window
}

// Check rolls the promoted version back (Act) when, after MinLabeled labeled photos, its live labeled accuracy
// is lower than the replaced version's by more than MaxAccuracyDrop, or when, after MinImages outcomes, its
// dead-letter rate exceeds the replaced version's by more than MaxDeadLetterIncrease or its p99 latency exceeds
// LatencyFactor times the replaced version's. Decided stays false while it waits for images and when it keeps
// the version.
func (p RollbackPolicy) Check(s registry.ShadowSummary) Verdict {
	if v := p.checkAccuracy(s); v.Act {
		return v
	}
	now, before := s.Promoted, s.Current
	outcomes := now.Results + now.DeadLetters
	if outcomes < max(p.MinImages, 1) {
		return Verdict{Reason: fmt.Sprintf("%d of %d images since the promotion", outcomes, p.MinImages)}
	}
	dl, prevDL := rate(now.DeadLetters, outcomes), rate(before.DeadLetters, before.Results+before.DeadLetters)
	if dl > prevDL+p.MaxDeadLetterIncrease {
		return Verdict{Decided: true, Act: true, Reason: fmt.Sprintf(
			"dead-letter rate %.4f > %s's %.4f + %.4f (%d of %d images)", dl, s.Base, prevDL, p.MaxDeadLetterIncrease,
			now.DeadLetters, outcomes)}
	}
	p99, prevP99 := now.Latency.Quantile(0.99), before.Latency.Quantile(0.99)
	if prevP99 > 0 && p99 > p.LatencyFactor*prevP99 {
		return Verdict{Decided: true, Act: true, Reason: fmt.Sprintf("p99 latency %gs > %g x %s's %gs",
			p99, p.LatencyFactor, s.Base, prevP99)}
	}
	return Verdict{Reason: fmt.Sprintf("dead-letter rate %.4f, p99 %gs: no regression against %s", dl, p99, s.Base)}
}

// checkAccuracy rolls back on a drop of the live labeled accuracy (Act), once both versions have labeled
// photos, the promoted one at least MinLabeled.
func (p RollbackPolicy) checkAccuracy(s registry.ShadowSummary) Verdict {
	now, before := s.Promoted.Labeled, s.Current.Labeled
	if p.MinLabeled <= 0 || now.Images < p.MinLabeled || before.Images == 0 {
		return Verdict{}
	}
	if acc, prev := now.Accuracy(), before.Accuracy(); acc < prev-p.MaxAccuracyDrop {
		return Verdict{Decided: true, Act: true, Reason: fmt.Sprintf(
			"labeled pixel accuracy %.4f < %s's %.4f - %.4f (%d labeled images)", acc, s.Base, prev, p.MaxAccuracyDrop,
			now.Images)}
	}
	return Verdict{}
}
