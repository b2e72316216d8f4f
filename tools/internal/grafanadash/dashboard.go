// Package grafanadash builds vitseg's Grafana dashboard (charts/vitseg/dashboards/vitseg.json) with Grafana's
// foundation SDK, from the metrics `vitseg serve` exports (pipeline/metrics.go) and the Go client's process
// collector.
package grafanadash

import (
	"encoding/json"
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// UID is the dashboard's uid: its URL and its identity across imports.
const UID = "vitseg-serve"

// Template variables: the Prometheus data source, and the job and instances of serve's targets.
const (
	varDatasource = "datasource"
	varJob        = "job"
	varInstance   = "instance"
)

// sel is the label matchers every vitseg query starts with: the chosen job and instances.
const sel = `job=~"$job",instance=~"$instance"`

// datasource is the reference every panel and query variable uses: the data source variable.
func datasource() common.DataSourceRef {
	return common.DataSourceRef{Type: cog.ToPtr("prometheus"), Uid: cog.ToPtr("${" + varDatasource + "}")}
}

// Build returns the dashboard.
func Build() (dashboard.Dashboard, error) {
	b := dashboard.NewDashboardBuilder("vitseg").
		Uid(UID).
		Description("vitseg serve: throughput, latency, Kafka consumption, dead letters, retries, model and resources.").
		Tags([]string{"vitseg"}).
		Editable().
		Refresh("30s").
		Time("now-1h", "now").
		Timezone(common.TimeZoneBrowser).
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		WithVariable(dashboard.NewDatasourceVariableBuilder(varDatasource).Label("Data source").Type("prometheus")).
		WithVariable(queryVariable(varJob, "Job", "label_values(vitseg_images_processed_total, job)", false)).
		WithVariable(queryVariable(varInstance, "Instance",
			`label_values(vitseg_images_processed_total{job=~"$job"}, instance)`, true))
	for _, r := range rows() {
		b = b.WithRow(dashboard.NewRowBuilder(r.title))
		for _, p := range r.panels {
			b = b.WithPanel(p)
		}
	}
	d, err := b.Build()
	if err != nil {
		return dashboard.Dashboard{}, fmt.Errorf("grafanadash: build: %w", err)
	}
	return d, nil
}

// JSON returns the dashboard as indented JSON with a final newline, as committed.
func JSON() ([]byte, error) {
	d, err := Build()
	if err != nil {
		return nil, err
	}
	out, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("grafanadash: encode: %w", err)
	}
	return append(out, '\n'), nil
}

// queryVariable is a variable whose values a label_values query lists; multi adds "All" (every value).
func queryVariable(name, label, query string, multi bool) *dashboard.QueryVariableBuilder {
	v := dashboard.NewQueryVariableBuilder(name).
		Label(label).
		Query(dashboard.StringOrMap{String: cog.ToPtr(query)}).
		Datasource(datasource()).
		Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
		Sort(dashboard.VariableSortAlphabeticalAsc)
	if multi {
		v = v.Multi(true).IncludeAll(true).AllValue(".+")
	}
	return v
}
