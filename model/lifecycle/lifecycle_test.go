package lifecycle

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/vitseg/vitseg/model/imaging"
	"github.com/vitseg/vitseg/model/registry"
)

func mask(w int, pix ...uint8) *imaging.Mask {
	return &imaging.Mask{Width: w, Height: len(pix) / w, Pix: pix}
}

func TestCompare(t *testing.T) {
	tests := []struct {
		name    string
		a, b    *imaging.Mask
		want    Agreement
		wantErr bool
	}{
		{"identical", mask(2, 0, 1, 2, 1), mask(2, 0, 1, 2, 1), Agreement{Pixel: 1, MeanIoU: 1}, false},
		// Pet (0): inter 1, union 2; background (1): inter 2, union 2.
		{"half differs", mask(2, 0, 0, 1, 1), mask(2, 0, 1, 1, 1), Agreement{Pixel: 0.75, MeanIoU: (0.5 + 2.0/3) / 2, PetAreaDiff: 0.25}, false},
		{"disjoint", mask(1, 0, 0), mask(1, 1, 1), Agreement{Pixel: 0, MeanIoU: 0, PetAreaDiff: 1}, false},
		{"sizes differ", mask(2, 0, 0), mask(1, 0, 0), Agreement{}, true},
		{"class out of range", mask(1, 7), mask(1, 0), Agreement{}, true},
		{"empty", mask(1), mask(1), Agreement{Pixel: 1, MeanIoU: 1}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Compare(tc.a, tc.b, 3)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if math.Abs(got.Pixel-tc.want.Pixel) > 1e-9 || math.Abs(got.MeanIoU-tc.want.MeanIoU) > 1e-9 ||
				math.Abs(got.PetAreaDiff-tc.want.PetAreaDiff) > 1e-9 {
				t.Errorf("Compare = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// summary returns a shadow summary: n compared images of agreement ag, errs failed shadow inferences, shadow
// and current p99 latencies (all in one bucket), and the current model's inference errors out of curImages.
func summary(n, errs int64, ag float64, shadowLat, curLat float64, curErrs, curImages int64) registry.ShadowSummary {
	s := registry.ShadowSummary{Version: "000002", Base: "000001"}
	s.Shadow.Images, s.Shadow.Errors, s.Shadow.AgreementSum = n, errs, ag*float64(n)
	s.Shadow.Latency.AddCount(shadowLat, n)
	s.Current.Images, s.Current.InferErrors = curImages, curErrs
	s.Current.Latency.AddCount(curLat, curImages)
	return s
}

func TestPolicyDecide(t *testing.T) {
	p := Policy{MinImages: 20, MinAgreement: 0.9, LatencyFactor: 2}
	tests := []struct {
		name        string
		s           registry.ShadowSummary
		noAuto      bool
		decided     bool
		promote     bool
		reasonMatch string
	}{
		{"too few images", summary(19, 0, 1, 0.01, 0.01, 0, 100), false, false, false, "19 of 20"},
		{"errors count towards the minimum", summary(10, 10, 1, 0.01, 0.01, 0, 100), false, true, false, "error rate"},
		{"agrees, as fast: promoted", summary(20, 0, 0.95, 0.01, 0.01, 0, 100), false, true, true, "0.9500 >= 0.9000"},
		{"agreement exactly at the threshold: promoted", summary(20, 0, 0.9, 0.01, 0.01, 0, 100), false, true, true, ">="},
		{"disagrees: rejected", summary(50, 0, 0.4, 0.01, 0.01, 0, 100), false, true, false, "pixel agreement 0.4000 < 0.9000"},
		{"slower than the factor: rejected", summary(20, 0, 0.99, 0.05, 0.01, 0, 100), false, true, false, "p99 latency"},
		{"within the factor: promoted", summary(20, 0, 0.99, 0.02, 0.01, 0, 100), false, true, true, "p99"},
		{"more errors than current: rejected", summary(19, 1, 0.99, 0.01, 0.01, 0, 100), false, true, false, "error rate 0.0500"},
		{"no more errors than current: promoted", summary(19, 1, 0.99, 0.01, 0.01, 10, 100), false, true, true, "error rate 0.0500 <= 0.1000"},
		{"no current latency: not compared", summary(20, 0, 0.99, 10, 0, 0, 0), false, true, true, "p99"},
		{"rolled back before: rejected", summary(20, 0, 1, 0.01, 0.01, 0, 100), true, true, false, "rolled back"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := p.Decide(tc.s, tc.noAuto)
			if v.Decided != tc.decided || v.Act != tc.promote || !strings.Contains(v.Reason, tc.reasonMatch) {
				t.Errorf("Decide = %+v, want decided %v, promote %v, reason with %q", v, tc.decided, tc.promote, tc.reasonMatch)
			}
		})
	}
}

// labeled returns summary s with n labeled photos scored at accuracy acc for the candidate and curAcc for the
// current model.
func labeled(s registry.ShadowSummary, n int64, acc, curAcc float64) registry.ShadowSummary {
	s.Shadow.Labeled = registry.LabeledStats{Images: n, AccuracySum: acc * float64(n)}
	s.Current.Labeled = registry.LabeledStats{Images: n, AccuracySum: curAcc * float64(n)}
	return s
}

func TestPolicyDecideLabeled(t *testing.T) {
	p := Policy{MinImages: 20, MinAgreement: 0.9, MinLabeled: 5, AccuracyTolerance: 0.01, LatencyFactor: 2}
	tests := []struct {
		name        string
		s           registry.ShadowSummary
		decided     bool
		promote     bool
		reasonMatch string
	}{
		{"enough images, too few labels", labeled(summary(50, 0, 1, 0.01, 0.01, 0, 100), 4, 0.9, 0.9), false, false, "4 of 5 labeled"},
		{"too few images, enough labels", labeled(summary(19, 0, 1, 0.01, 0.01, 0, 100), 5, 0.9, 0.9), false, false, "19 of 20 shadow"},
		{"as accurate: promoted", labeled(summary(20, 0, 0.95, 0.01, 0.01, 0, 100), 5, 0.9, 0.9), true, true, "labeled pixel accuracy 0.9000 >= current 000001's 0.9000"},
		{"within the tolerance: promoted", labeled(summary(20, 0, 0.95, 0.01, 0.01, 0, 100), 5, 0.895, 0.9), true, true, ">="},
		{"less accurate: rejected", labeled(summary(20, 0, 0.95, 0.01, 0.01, 0, 100), 5, 0.6, 0.9), true, false, "labeled pixel accuracy 0.6000 < current 000001's 0.9000 - 0.0100"},
		{"disagrees but more accurate: promoted", labeled(summary(20, 0, 0.5, 0.01, 0.01, 0, 100), 5, 0.95, 0.9), true, true, "pixel agreement 0.5000"},
		{"accurate but slower: rejected", labeled(summary(20, 0, 1, 0.05, 0.01, 0, 100), 5, 0.9, 0.9), true, false, "p99 latency"},
		{"accurate but failing: rejected", labeled(summary(19, 1, 1, 0.01, 0.01, 0, 100), 5, 0.9, 0.9), true, false, "error rate"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := p.Decide(tc.s, false)
			if v.Decided != tc.decided || v.Act != tc.promote || !strings.Contains(v.Reason, tc.reasonMatch) {
				t.Errorf("Decide = %+v, want decided %v, promote %v, reason with %q", v, tc.decided, tc.promote, tc.reasonMatch)
			}
		})
	}
}

func TestRollbackPolicy(t *testing.T) {
	p := RollbackPolicy{Window: time.Hour, MinImages: 10, MaxDeadLetterIncrease: 0.05, LatencyFactor: 2}
	promoted := func(results, dead int64, lat float64) registry.ShadowSummary {
		s := registry.ShadowSummary{Version: "000002", Base: "000001"}
		s.Current.Results, s.Current.DeadLetters = 95, 5
		s.Current.Latency.AddCount(0.01, 100)
		s.Promoted.Results, s.Promoted.DeadLetters = results, dead
		s.Promoted.Latency.AddCount(lat, results+dead)
		return s
	}
	tests := []struct {
		name        string
		s           registry.ShadowSummary
		rollback    bool
		reasonMatch string
	}{
		{"too few images", promoted(5, 4, 0.01), false, "9 of 10"},
		{"same rates: kept", promoted(95, 5, 0.01), false, "no regression"},
		{"within the tolerance: kept", promoted(90, 10, 0.01), false, "no regression"},
		{"dead letters jump: rolled back", promoted(50, 50, 0.01), true, "dead-letter rate 0.5000 > 000001's 0.0500"},
		{"slower: rolled back", promoted(100, 0, 0.1), true, "p99 latency"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := p.Check(tc.s)
			if v.Act != tc.rollback || v.Decided != tc.rollback || !strings.Contains(v.Reason, tc.reasonMatch) {
				t.Errorf("Check = %+v, want rollback %v, reason with %q", v, tc.rollback, tc.reasonMatch)
			}
		})
	}
}

func TestRollbackPolicyLabeled(t *testing.T) {
	p := RollbackPolicy{Window: time.Hour, MinImages: 10, MaxDeadLetterIncrease: 0.05, LatencyFactor: 2,
		MinLabeled: 4, MaxAccuracyDrop: 0.02}
	promoted := func(outcomes, labels int64, acc, prevAcc float64, prevLabels int64) registry.ShadowSummary {
		s := registry.ShadowSummary{Version: "000002", Base: "000001"}
		s.Current.Results = 100
		s.Current.Latency.AddCount(0.01, 100)
		s.Current.Labeled = registry.LabeledStats{Images: prevLabels, AccuracySum: prevAcc * float64(prevLabels)}
		s.Promoted.Results = outcomes
		s.Promoted.Latency.AddCount(0.01, outcomes)
		s.Promoted.Labeled = registry.LabeledStats{Images: labels, AccuracySum: acc * float64(labels)}
		return s
	}
	tests := []struct {
		name        string
		s           registry.ShadowSummary
		rollback    bool
		reasonMatch string
	}{
		{"accuracy drops: rolled back before MinImages", promoted(2, 4, 0.5, 0.9, 10), true, "labeled pixel accuracy 0.5000 < 000001's 0.9000 - 0.0200"},
		{"too few labels: waits", promoted(2, 3, 0.5, 0.9, 10), false, "2 of 10"},
		{"within the drop: kept", promoted(20, 4, 0.885, 0.9, 10), false, "no regression"},
		{"no labels before: not compared", promoted(20, 4, 0.5, 0, 0), false, "no regression"},
		{"better: kept", promoted(20, 8, 0.95, 0.9, 10), false, "no regression"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := p.Check(tc.s)
			if v.Act != tc.rollback || v.Decided != tc.rollback || !strings.Contains(v.Reason, tc.reasonMatch) {
				t.Errorf("Check = %+v, want rollback %v, reason with %q", v, tc.rollback, tc.reasonMatch)
			}
		})
	}
	off := p
	off.MinLabeled = 0
	if v := off.Check(promoted(20, 50, 0.1, 0.9, 10)); v.Act {
		t.Errorf("MinLabeled 0 rolled back on accuracy: %+v", v)
	}
}

func TestRollbackWatching(t *testing.T) {
	p := RollbackPolicy{Window: time.Hour}
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	decided := func(outcome string, automatic bool) *registry.Decision {
		return &registry.Decision{Outcome: outcome, Automatic: automatic, At: at}
	}
	tests := []struct {
		name     string
		decision *registry.Decision
		rollback *registry.Decision
		now      time.Time
		want     bool
	}{
		{"no decision", nil, nil, at, false},
		{"promoted automatically, in the window", decided(registry.OutcomePromoted, true), nil, at.Add(time.Minute), true},
		{"after the window", decided(registry.OutcomePromoted, true), nil, at.Add(time.Hour), false},
		{"promoted by an operator", decided(registry.OutcomePromoted, false), nil, at, false},
		{"rejected", decided(registry.OutcomeRejected, true), nil, at, false},
		{"already rolled back", decided(registry.OutcomePromoted, true), decided(registry.OutcomeRolledBack, true), at, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := registry.ShadowSummary{Decision: tc.decision, Rollback: tc.rollback}
			if got := p.Watching(s, tc.now); got != tc.want {
				t.Errorf("Watching = %v, want %v", got, tc.want)
			}
		})
	}
}
