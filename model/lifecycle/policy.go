package lifecycle

import (
	"fmt"

	"github.com/vitseg/vitseg/model/registry"
)

// Policy decides on a candidate from its shadow summary.
type Policy struct {
	// MinImages is how many shadow inferences (compared or failed) it waits for before deciding.
	MinImages int64
	// MinAgreement is the lowest mean pixel agreement with the current model that promotes (when MinLabeled
	// is 0).
	MinAgreement float64
	// MinLabeled, when above 0, is how many labeled photos the candidate must have been scored on before
	// deciding; the candidate is then judged on its live labeled accuracy instead of its agreement.
	MinLabeled int64
	// AccuracyTolerance is how much lower than the current model's the candidate's labeled pixel accuracy
	// may be and still promote (with MinLabeled).
	AccuracyTolerance float64
	// LatencyFactor bounds the candidate's p99 inference time per image by this factor of the current
	// model's (p99 from registry.Histogram: an upper estimate within a factor of 2 of the true one).
	LatencyFactor float64
}

// Verdict is what a policy decided.
type Verdict struct {
	// Decided is false while the figures are too few to decide.
	Decided bool
	// Act is the decision when Decided: promote the candidate (Policy) or roll the version back
	// (RollbackPolicy).
	Act    bool
	Reason string
}

// Decide promotes the candidate of s when, after MinImages shadow inferences (and MinLabeled labeled photos),
// its error rate is at most the current model's, its quality is good enough (quality) and its p99 latency at
// most LatencyFactor times the current model's; otherwise it rejects it, with the first rule it broke. A
// version marked noAutoPromote (rolled back before) is rejected.
func (p Policy) Decide(s registry.ShadowSummary, noAutoPromote bool) Verdict {
	sh, cur := s.Shadow, s.Current
	attempts := sh.Images + sh.Errors
	if attempts < max(p.MinImages, 1) {
		return Verdict{Reason: fmt.Sprintf("%d of %d shadow images", attempts, p.MinImages)}
	}
	if p.MinLabeled > 0 && sh.Labeled.Images < p.MinLabeled {
		return Verdict{Reason: fmt.Sprintf("%d of %d labeled images", sh.Labeled.Images, p.MinLabeled)}
	}
	if noAutoPromote {
		return Verdict{Decided: true, Reason: "rolled back before: never promoted automatically"}
	}
	errRate, curErrRate := rate(sh.Errors, attempts), rate(cur.InferErrors, cur.Images)
	if errRate > curErrRate {
		return Verdict{Decided: true, Reason: fmt.Sprintf("error rate %.4f > current %s's %.4f (%d of %d images)",
			errRate, s.Base, curErrRate, sh.Errors, attempts)}
	}
	quality, ok := p.quality(s)
	if !ok {
		return Verdict{Decided: true, Reason: quality}
	}
	p99, curP99 := sh.Latency.Quantile(0.99), cur.Latency.Quantile(0.99)
	if curP99 > 0 && p99 > p.LatencyFactor*curP99 {
		return Verdict{Decided: true, Reason: fmt.Sprintf("p99 latency %gs > %g x current %s's %gs",
			p99, p.LatencyFactor, s.Base, curP99)}
	}
	return Verdict{Decided: true, Act: true, Reason: fmt.Sprintf("%s, p99 %gs <= %g x %gs, error rate %.4f <= %.4f",
		quality, p99, p.LatencyFactor, curP99, errRate, curErrRate)}
}

// quality judges the candidate's masks: with MinLabeled, its labeled pixel accuracy against the current
// model's on the same photos (at most AccuracyTolerance lower); without, its mean pixel agreement with the
// current model (at least MinAgreement). It returns the reason and whether the rule holds.
func (p Policy) quality(s registry.ShadowSummary) (string, bool) {
	sh := s.Shadow
	if p.MinLabeled > 0 {
		acc, curAcc := sh.Labeled.Accuracy(), s.Current.Labeled.Accuracy()
		if acc < curAcc-p.AccuracyTolerance {
			return fmt.Sprintf("labeled pixel accuracy %.4f < current %s's %.4f - %.4f on %d labeled images",
				acc, s.Base, curAcc, p.AccuracyTolerance, sh.Labeled.Images), false
		}
		return fmt.Sprintf("labeled pixel accuracy %.4f >= current %s's %.4f - %.4f on %d labeled images (pixel agreement %.4f on %d images)",
			acc, s.Base, curAcc, p.AccuracyTolerance, sh.Labeled.Images, sh.Mean(sh.AgreementSum), sh.Images), true
	}
	agreement := sh.Mean(sh.AgreementSum)
	if agreement < p.MinAgreement {
		return fmt.Sprintf("pixel agreement %.4f < %.4f with current %s on %d images (mean IoU %.4f)",
			agreement, p.MinAgreement, s.Base, sh.Images, sh.Mean(sh.MeanIoUSum)), false
	}
	return fmt.Sprintf("pixel agreement %.4f >= %.4f with current %s on %d images (mean IoU %.4f, pet area diff %.4f)",
		agreement, p.MinAgreement, s.Base, sh.Images, sh.Mean(sh.MeanIoUSum), sh.Mean(sh.PetAreaDiffSum)), true
}

// rate is n over total, 0 when total is 0.
func rate(n, total int64) float64 {
	if total <= 0 {
		return 0
	}
	return float64(n) / float64(total)
}
