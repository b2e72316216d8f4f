package obscheck

import (
	"fmt"

	"sigs.k8s.io/yaml"
)

// Alert is one alerting rule of a Prometheus rule file.
type Alert struct {
	Name, Expr string
}

// RuleFileAlerts returns the alerting rules of a Prometheus rule file, in file order; recording rules are left
// out.
func RuleFileAlerts(ruleFile []byte) ([]Alert, error) {
	var f struct {
		Groups []struct {
			Rules []struct {
				Alert string `json:"alert"`
				Expr  string `json:"expr"`
			} `json:"rules"`
		} `json:"groups"`
	}
	if err := yaml.Unmarshal(ruleFile, &f); err != nil {
		return nil, fmt.Errorf("decode rule file: %w", err)
	}
	var out []Alert
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			if r.Alert != "" {
				out = append(out, Alert{Name: r.Alert, Expr: r.Expr})
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("the rule file has no alerting rules")
	}
	return out, nil
}
