package obscheck

import (
	"fmt"
	"sort"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// Selector is what one series selector of an expression needs to exist: a metric name and the label names its
// matchers test.
type Selector struct {
	Metric string
	Labels []string // sorted, without __name__
}

// Selectors parses a PromQL expression and returns its series selectors, each metric once with the union of
// the label names matched on it, sorted by metric.
func Selectors(expr string) ([]Selector, error) {
	e, err := parser.ParseExpr(expr)
	if err != nil {
		return nil, fmt.Errorf("parse %q: %w", expr, err)
	}
	byMetric := map[string]map[string]bool{}
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		names := byMetric[vs.Name]
		if names == nil {
			names = map[string]bool{}
			byMetric[vs.Name] = names
		}
		for _, m := range vs.LabelMatchers {
			if m.Name != labels.MetricName {
				names[m.Name] = true
			}
		}
		return nil
	})
	out := make([]Selector, 0, len(byMetric))
	for metric, names := range byMetric {
		s := Selector{Metric: metric}
		for n := range names {
			s.Labels = append(s.Labels, n)
		}
		sort.Strings(s.Labels)
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Metric < out[j].Metric })
	return out, nil
}
