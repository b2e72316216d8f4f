package obscheck

import (
	"context"
	"fmt"
	"time"
)

// Checker runs the checks against one Prometheus.
type Checker struct {
	Client *Client
	// Vars are the dashboard's template variables' values, built-in ones (__rate_interval, ...) included.
	Vars map[string]string
	// Absent are metrics an alert may select that this Prometheus is known not to scrape (kube-state-metrics'
	// on a dev stack): their selectors are parsed but not required to return data.
	Absent map[string]bool
}

// Problem is one failed check.
type Problem struct {
	What, Detail string
}

func (p Problem) String() string { return p.What + ": " + p.Detail }

// CheckDashboard evaluates every query with the template variables substituted; each must return data.
func (c *Checker) CheckDashboard(ctx context.Context, queries []Query) []Problem {
	var out []Problem
	for _, q := range queries {
		what := fmt.Sprintf("dashboard panel %q", q.Panel)
		expr, err := Substitute(q.Expr, c.Vars)
		if err != nil {
			out = append(out, Problem{what, err.Error()})
			continue
		}
		if p, ok := c.mustReturnData(ctx, what, expr); !ok {
			out = append(out, p)
		}
	}
	return out
}

// CheckAlerts evaluates every alert's expression (it must be valid; it returns data only when the alert's
// condition holds) and requires each metric it selects, with each label it matches on, to exist.
func (c *Checker) CheckAlerts(ctx context.Context, alerts []Alert) []Problem {
	var out []Problem
	for _, a := range alerts {
		what := "alert " + a.Name
		if _, err := c.Client.Query(ctx, a.Expr); err != nil {
			out = append(out, Problem{what, err.Error()})
			continue
		}
		sels, err := Selectors(a.Expr)
		if err != nil {
			out = append(out, Problem{what, err.Error()})
			continue
		}
		for _, s := range sels {
			if c.Absent[s.Metric] {
				continue
			}
			if p, ok := c.mustReturnData(ctx, what, "count("+s.Metric+")"); !ok {
				out = append(out, p)
				continue
			}
			for _, l := range s.Labels {
				if p, ok := c.mustReturnData(ctx, what, fmt.Sprintf("count(%s{%s!=\"\"})", s.Metric, l)); !ok {
					out = append(out, p)
				}
			}
		}
	}
	return out
}

// mustReturnData queries expr and reports a problem unless it returns at least one sample.
func (c *Checker) mustReturnData(ctx context.Context, what, expr string) (Problem, bool) {
	samples, err := c.Client.Query(ctx, expr)
	if err != nil {
		return Problem{what, err.Error()}, false
	}
	if len(samples) == 0 {
		return Problem{what, fmt.Sprintf("no data for %s", expr)}, false
	}
	return Problem{}, true
}

// WaitForData polls each expression every poll until all return data, or ctx ends: then the error names the
// expressions still without data.
func (c *Checker) WaitForData(ctx context.Context, poll time.Duration, exprs ...string) error {
	pending := append([]string(nil), exprs...)
	for {
		var still []string
		for _, e := range pending {
			samples, err := c.Client.Query(ctx, e)
			if err != nil && ctx.Err() == nil {
				return err
			}
			if len(samples) == 0 {
				still = append(still, e)
			}
		}
		if len(still) == 0 {
			return nil
		}
		pending = still
		t := time.NewTimer(poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("still no data for %q: %w", pending, ctx.Err())
		case <-t.C:
		}
	}
}
