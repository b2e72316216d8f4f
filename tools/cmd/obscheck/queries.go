package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/vitseg/vitseg/tools/internal/obscheck"
)

// runQueries checks every dashboard query and every alert expression against the Prometheus.
func runQueries(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("queries", stderr)
	prom := fs.String("prometheus", "http://127.0.0.1:9090", "Prometheus base URL")
	dashboard := fs.String("dashboard", "", "Grafana dashboard JSON")
	rules := fs.String("rules", "", "Prometheus rule file")
	vars := varFlag{}
	fs.Var(vars, "var", "template variable NAME=VALUE (repeatable), built-ins such as __rate_interval included")
	absent := setFlag{}
	fs.Var(absent, "absent", "metrics this Prometheus does not scrape, comma-separated (repeatable)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *dashboard == "" || *rules == "" || fs.NArg() > 0 {
		return usageError{"queries: give -dashboard and -rules, and no arguments"}
	}
	queries, alerts, err := load(*dashboard, *rules)
	if err != nil {
		return err
	}
	c := &obscheck.Checker{Client: obscheck.NewClient(*prom, &http.Client{Timeout: 30 * time.Second}),
		Vars: vars, Absent: absent}
	problems := append(c.CheckDashboard(ctx, queries), c.CheckAlerts(ctx, alerts)...)
	for _, p := range problems {
		fmt.Fprintln(stdout, "FAIL", p)
	}
	fmt.Fprintf(stdout, "obscheck: %d dashboard queries, %d alert expressions, %d problems\n",
		len(queries), len(alerts), len(problems))
	if len(problems) > 0 {
		return fmt.Errorf("%d problems", len(problems))
	}
	return nil
}

// load reads the dashboard's queries and the rule file's alerts.
func load(dashboard, rules string) ([]obscheck.Query, []obscheck.Alert, error) {
	db, err := os.ReadFile(dashboard)
	if err != nil {
		return nil, nil, fmt.Errorf("read dashboard: %w", err)
	}
	queries, err := obscheck.DashboardQueries(db)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", dashboard, err)
	}
	rb, err := os.ReadFile(rules)
	if err != nil {
		return nil, nil, fmt.Errorf("read rules: %w", err)
	}
	alerts, err := obscheck.RuleFileAlerts(rb)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", rules, err)
	}
	return queries, alerts, nil
}
