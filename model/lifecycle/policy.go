package lifecycle

import (
	"fmt"

	"github.com/vitseg/vitseg/model/registry"
)

// Policy decides on a candidate from its shadow summary.
type Policy struct {
	// MinImages is how many shadow inferences (compared or failed) it waits for before deciding.
	MinImages int64
	// MinAgreement is the lowest mean pixel agreement with the current model that promotes.
	MinAgreement float64
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

// Decide promotes the candidate of s when, after MinImages shadow inferences, its error rate is at most the
// current model's, its mean pixel agreement is at least MinAgreement and its p99 latency at most LatencyFactor
// times the current model's; otherwise it rejects it, with the first rule it broke. A version marked
// noAutoPromote (rolled back before) is rejected.
func (p Policy) Decide(s registry.ShadowSummary, noAutoPromote bool) Verdict {
	sh, cur := s.Shadow, s.Current
	attempts := sh.Images + sh.Errors
	if attempts < max(p.MinImages, 1) {
		return Verdict{Reason: fmt.Sprintf("%d of %d shadow images", attempts, p.MinImages)}
	}
	if noAutoPromote {
		return Verdict{Decided: true, Reason: "rolled back before: never promoted automatically"}
	}
	errRate, curErrRate := rate(sh.Errors, attempts), rate(cur.InferErrors, cur.Images)
	if errRate > curErrRate {
		return Verdict{Decided: true, Reason: fmt.Sprintf("error rate %.4f > current %s's %.4f (%d of %d images)",
			errRate, s.Base, curErrRate, sh.Errors, attempts)}
	}
	agreement := sh.Mean(sh.AgreementSum)
	if agreement < p.MinAgreement {
		return Verdict{Decided: true, Reason: fmt.Sprintf("pixel agreement %.4f < %.4f with current %s on %d images (mean IoU %.4f)",
			agreement, p.MinAgreement, s.Base, sh.Images, sh.Mean(sh.MeanIoUSum))}
	}
	p99, curP99 := sh.Latency.Quantile(0.99), cur.Latency.Quantile(0.99)
	if curP99 > 0 && p99 > p.LatencyFactor*curP99 {
		return Verdict{Decided: true, Reason: fmt.Sprintf("p99 latency %gs > %g x current %s's %gs",
			p99, p.LatencyFactor, s.Base, curP99)}
	}
	return Verdict{Decided: true, Act: true, Reason: fmt.Sprintf(
		"pixel agreement %.4f >= %.4f with current %s on %d images (mean IoU %.4f, pet area diff %.4f), p99 %gs <= %g x %gs, error rate %.4f <= %.4f",
		agreement, p.MinAgreement, s.Base, sh.Images, sh.Mean(sh.MeanIoUSum), sh.Mean(sh.PetAreaDiffSum),
		p99, p.LatencyFactor, curP99, errRate, curErrRate)}
}

// rate is n over total, 0 when total is 0.
func rate(n, total int64) float64 {
	if total <= 0 {
		return 0
	}
	return float64(n) / float64(total)
}
