package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// Case is one thing to measure: a call that does Units of work (images, FLOP, ...) per call.
type Case struct {
	Name  string
	Units float64
	// Call does the work once and returns how long it took: Timed measures a function on the wall clock; a case
	// that is timed elsewhere (an outside process, or event timestamps) returns its own measurement.
	Call func(ctx context.Context) (time.Duration, error)
}

// Timed wraps f as a Case.Call measured on the wall clock.
func Timed(f func(ctx context.Context) error) func(ctx context.Context) (time.Duration, error) {
	return func(ctx context.Context) (time.Duration, error) {
		start := time.Now()
		err := f(ctx)
		return time.Since(start), err
	}
}

// Plan says how Interleave repeats the cases.
type Plan struct {
	Rounds   int           // rounds over all cases (at least 1)
	MinTime  time.Duration // per case and round, calls repeat until this much time was measured
	MinCalls int           // per case and round, at least this many calls (at least 1)
	Warmup   int           // untimed calls of each case before the first round
	Log      io.Writer     // progress lines, one per measurement; nil: none
	// Bracket makes cases[0] a reference measured around every other case (see Interleave).
	Bracket bool
	// Probe, when set, is called before and after each case's calls of a round; the values it returns (for
	// example CPU seconds of some processes) are differenced and stored per round in Series.Probes.
	Probe func() map[string]float64
}

// Series is the measurement of one case: one rate per round (per slice for a bracketing reference).
type Series struct {
	Name   string
	Units  float64   // work per call
	Rates  []float64 // units per second, one per round
	Calls  []int     // calls per round
	Probes []map[string]float64
	// RefRates are, in a bracketed plan, the reference's mean rate right before and after each of Rates.
	RefRates []float64
}

// RefRatios divides each rate by the reference rate that bracketed it (a bracketed plan's same-moment ratio).
func (s Series) RefRatios() []float64 {
	n := min(len(s.Rates), len(s.RefRates))
	out := make([]float64, n)
	for i := range n {
		out[i] = s.Rates[i] / s.RefRates[i]
	}
	return out
}

// Median is the median rate over the rounds.
func (s Series) Median() float64 { return Median(s.Rates) }

// ProbeMedian is the median over the rounds of a probe's difference divided by the units of work done in that
// round (for example CPU seconds per image).
func (s Series) ProbeMedian(key string) float64 {
	per := make([]float64, 0, len(s.Probes))
	for i, p := range s.Probes {
		if v, ok := p[key]; ok && s.Calls[i] > 0 {
			per = append(per, v/(float64(s.Calls[i])*s.Units))
		}
	}
	return Median(per)
}

// Ratios divides a's rate by b's round by round (both measured in the same round, side by side).
func Ratios(a, b Series) []float64 {
	n := min(len(a.Rates), len(b.Rates))
	out := make([]float64, n)
	for i := range n {
		out[i] = a.Rates[i] / b.Rates[i]
	}
	return out
}

// Interleave measures the cases in alternating rounds: every round runs each case for plan.MinTime (and at
// least plan.MinCalls calls), starting with a different case each round so that none always runs after the
// same neighbour. Comparing the cases round by round cancels most of the drift of a shared machine's load.
//
// With plan.Bracket, cases[0] is the reference: each round runs it before every other case and once more at the
// end (R c1 R c2 ... R), the other cases in rotated order, and each other case's Series.RefRates holds the mean
// of the two reference measurements that bracket it, seconds apart.
func Interleave(ctx context.Context, plan Plan, cases ...Case) ([]Series, error) {
	if len(cases) == 0 {
		return nil, errors.New("bench: no cases")
	}
	if plan.Bracket && len(cases) < 2 {
		return nil, errors.New("bench: a bracketed plan needs a reference and at least one case")
	}
	iv := &interleaving{plan: plan, cases: cases, rounds: max(plan.Rounds, 1), minCalls: max(plan.MinCalls, 1),
		series: make([]Series, len(cases))}
	if err := iv.warmUp(ctx); err != nil {
		return nil, err
	}
	for i, c := range cases {
		iv.series[i] = Series{Name: c.Name, Units: c.Units}
	}
	for r := range iv.rounds {
		round := iv.round
		if plan.Bracket {
			round = iv.bracketedRound
		}
		if err := round(ctx, r); err != nil {
			return nil, err
		}
	}
	return iv.series, nil
}

// interleaving is the state of one Interleave: the plan, its cases and their series so far.
type interleaving struct {
	plan             Plan
	cases            []Case
	rounds, minCalls int
	series           []Series
}

// warmUp makes plan.Warmup untimed calls of each case.
func (iv *interleaving) warmUp(ctx context.Context) error {
	for _, c := range iv.cases {
		for i := range iv.plan.Warmup {
			if _, err := c.Call(ctx); err != nil {
				return fmt.Errorf("bench: warm-up %d of %s: %w", i+1, c.Name, err)
			}
		}
	}
	return nil
}

// round r runs every case once, starting with case r (modulo the number of cases).
func (iv *interleaving) round(ctx context.Context, r int) error {
	for k := range iv.cases {
		if _, err := iv.measure(ctx, r, (r+k)%len(iv.cases)); err != nil {
			return err
		}
	}
	return nil
}

// bracketedRound r runs the reference (case 0) before every other case and once more at the end, the other
// cases in an order rotated by r, and records for each the mean of the reference rates around it.
func (iv *interleaving) bracketedRound(ctx context.Context, r int) error {
	ref, err := iv.measure(ctx, r, 0)
	if err != nil {
		return err
	}
	others := len(iv.cases) - 1
	for k := range others {
		i := 1 + (r+k)%others
		if _, err := iv.measure(ctx, r, i); err != nil {
			return err
		}
		after, err := iv.measure(ctx, r, 0)
		if err != nil {
			return err
		}
		iv.series[i].RefRates = append(iv.series[i].RefRates, (ref+after)/2)
		ref = after
	}
	return nil
}

// measure runs case i once for the round's slice, records it, and returns its rate.
func (iv *interleaving) measure(ctx context.Context, r, i int) (float64, error) {
	c := iv.cases[i]
	var before map[string]float64
	if iv.plan.Probe != nil {
		before = iv.plan.Probe()
	}
	var spent time.Duration
	calls := 0
	for calls < iv.minCalls || spent < iv.plan.MinTime {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		d, err := c.Call(ctx)
		if err != nil {
			return 0, fmt.Errorf("bench: round %d, %s: %w", r+1, c.Name, err)
		}
		spent += d
		calls++
	}
	if iv.plan.Probe != nil {
		iv.series[i].Probes = append(iv.series[i].Probes, probeDiff(before, iv.plan.Probe()))
	}
	rate := float64(calls) * c.Units / spent.Seconds()
	iv.series[i].Rates = append(iv.series[i].Rates, rate)
	iv.series[i].Calls = append(iv.series[i].Calls, calls)
	if iv.plan.Log != nil {
		fmt.Fprintf(iv.plan.Log, "round %d/%d  %-40s %5d calls in %7.2fs  %12.4g units/s\n", r+1, iv.rounds, c.Name,
			calls, spent.Seconds(), rate)
	}
	return rate, nil
}

// probeDiff is after minus before, key by key of after.
func probeDiff(before, after map[string]float64) map[string]float64 {
	diff := make(map[string]float64, len(after))
	for key, v := range after {
		diff[key] = v - before[key]
	}
	return diff
}
