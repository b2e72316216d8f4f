package obscheck

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Query is one PromQL query of a dashboard panel.
type Query struct {
	Panel string // the panel's title
	Expr  string
}

// panel is the part of a Grafana panel (or row, whose collapsed panels it nests) that holds queries.
type panel struct {
	Title   string  `json:"title"`
	Panels  []panel `json:"panels"`
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
}

// DashboardQueries returns the queries of every panel of a Grafana dashboard JSON, rows' nested panels
// included, in panel order.
func DashboardQueries(dashboardJSON []byte) ([]Query, error) {
	var d struct {
		Panels []panel `json:"panels"`
	}
	if err := json.Unmarshal(dashboardJSON, &d); err != nil {
		return nil, fmt.Errorf("decode dashboard: %w", err)
	}
	var out []Query
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			for _, t := range p.Targets {
				if strings.TrimSpace(t.Expr) != "" {
					out = append(out, Query{Panel: p.Title, Expr: t.Expr})
				}
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	if len(out) == 0 {
		return nil, fmt.Errorf("the dashboard has no queries")
	}
	return out, nil
}

// unsetVariable matches a template variable left in a query.
var unsetVariable = regexp.MustCompile(`\$\{?\w+\}?|\[\[\w+\]\]`)

// Substitute replaces Grafana's template variables in expr ($name, ${name} and [[name]]) with
// their values in vars; built-in ones such as __rate_interval are set in vars like any other. It returns an
// error naming a variable vars lacks.
func Substitute(expr string, vars map[string]string) (string, error) {
	names := make([]string, 0, len(vars))
	for n := range vars {
		names = append(names, n)
	}
	// Longest first, so that $__rate_interval is not read as $__rate followed by text.
	sort.Slice(names, func(i, j int) bool {
		return len(names[i]) > len(names[j]) || (len(names[i]) == len(names[j]) && names[i] < names[j])
	})
	pairs := make([]string, 0, 6*len(names))
	for _, n := range names {
		v := vars[n]
		pairs = append(pairs, "${"+n+"}", v, "[["+n+"]]", v, "$"+n, v)
	}
	out := strings.NewReplacer(pairs...).Replace(expr)
	if v := unsetVariable.FindString(out); v != "" {
		return "", fmt.Errorf("template variable %s unset in %q", v, expr)
	}
	return out, nil
}
