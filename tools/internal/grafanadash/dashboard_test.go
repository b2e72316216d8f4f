package grafanadash_test

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/vitseg/vitseg/tools/internal/grafanadash"
)

// committed is the dashboard the chart ships.
const committed = "../../../charts/vitseg/dashboards/vitseg.json"

// TestCommittedDashboardIsCurrent fails when the chart's dashboard is not what the generator writes: run
// `go run ./cmd/obsgen` in tools/ after changing the generator.
func TestCommittedDashboardIsCurrent(t *testing.T) {
	want, err := grafanadash.JSON()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(committed)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is stale: run `go run ./cmd/obsgen` in tools/", committed)
	}
}

// TestPanels: every panel has a Prometheus query on the data source variable, and every query selects the
// chosen job and instances.
func TestPanels(t *testing.T) {
	b, err := grafanadash.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		UID    string `json:"uid"`
		Panels []struct {
			Type       string `json:"type"`
			Title      string `json:"title"`
			Datasource struct {
				UID string `json:"uid"`
			} `json:"datasource"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	if d.UID != grafanadash.UID {
		t.Errorf("uid %q", d.UID)
	}
	queries := 0
	for _, p := range d.Panels {
		if p.Type == "row" {
			continue
		}
		if p.Datasource.UID != "${datasource}" || len(p.Targets) == 0 {
			t.Errorf("panel %q: data source %q, %d targets", p.Title, p.Datasource.UID, len(p.Targets))
		}
		for _, q := range p.Targets {
			queries++
			if !strings.Contains(q.Expr, `job=~"$job",instance=~"$instance"`) {
				t.Errorf("panel %q: query %q does not select $job and $instance", p.Title, q.Expr)
			}
		}
	}
	if queries < 20 {
		t.Errorf("%d queries, want the full set", queries)
	}
}
