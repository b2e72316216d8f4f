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
	rounds, minCalls := max(plan.Rounds, 1), max(plan.MinCalls, 1)
	for _, c := range cases {
		for i := range plan.Warmup {
			if _, err := c.Call(ctx); err != nil {
				return nil, fmt.Errorf("bench: warm-up %d of %s: %w", i+1, c.Name, err)
			}
		}
	}
	series := make([]Series, len(cases))
	for i, c := range cases {
		series[i] = Series{Name: c.Name, Units: c.Units}
	}
	// measure runs case i once for the round's slice, records it, and returns its rate.
	measure := func(r, i int) (float64, error) {
		c := cases[i]
		var before map[string]float64
		if plan.Probe != nil {
			before = plan.Probe()
		}
		var spent time.Duration
		calls := 0
		for calls < minCalls || spent < plan.MinTime {
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
		if plan.Probe != nil {
			after := plan.Probe()
			diff := make(map[string]float64, len(after))
			for key, v := range after {
				diff[key] = v - before[key]
			}
			series[i].Probes = append(series[i].Probes, diff)
		}
		rate := float64(calls) * c.Units / spent.Seconds()
		series[i].Rates = append(series[i].Rates, rate)
		series[i].Calls = append(series[i].Calls, calls)
		if plan.Log != nil {
			fmt.Fprintf(plan.Log, "round %d/%d  %-40s %5d calls in %7.2fs  %12.4g units/s\n", r+1, rounds, c.Name,
				calls, spent.Seconds(), rate)
		}
		return rate, nil
	}
	for r := range rounds {
		if !plan.Bracket {
			for k := range cases {
				if _, err := measure(r, (r+k)%len(cases)); err != nil {
					return nil, err
				}
			}
			continue
		}
		ref, err := measure(r, 0)
		if err != nil {
			return nil, err
		}
		others := len(cases) - 1
		for k := range others {
			i := 1 + (r+k)%others
			if _, err := measure(r, i); err != nil {
				return nil, err
			}
			after, err := measure(r, 0)
			if err != nil {
				return nil, err
			}
			series[i].RefRates = append(series[i].RefRates, (ref+after)/2)
			ref = after
		}
	}
	return series, nil
}
