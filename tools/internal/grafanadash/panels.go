package grafanadash

import (
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/heatmap"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// Panel sizes on Grafana's 24-column grid.
const (
	panelHeight = 8
	thirdWidth  = 8
	halfWidth   = 12
)

// query is one PromQL target of a panel with its legend.
type query struct {
	expr, legend string
}

// target builds q as a Prometheus query (range, unless instant).
func (q query) target(instant bool) *prometheus.DataqueryBuilder {
	t := prometheus.NewDataqueryBuilder().Expr(q.expr).LegendFormat(q.legend).Datasource(datasource())
	if instant {
		return t.Instant()
	}
	return t.Range()
}

// graph is a time series panel of queries in unit.
func graph(title, description, unit string, width uint32, queries ...query) cog.Builder[dashboard.Panel] {
	p := timeseries.NewPanelBuilder().
		Title(title).
		Description(description).
		Datasource(datasource()).
		Unit(unit).
		Min(0).
		Height(panelHeight).
		Span(width).
		FillOpacity(10).
		Legend(common.NewVizLegendOptionsBuilder().
			DisplayMode(common.LegendDisplayModeList).
			Placement(common.LegendPlacementBottom).
			ShowLegend(true))
	for _, q := range queries {
		p = p.WithTarget(q.target(false))
	}
	return p
}

// single is a stat panel showing the last value of each series of q; byName shows the series' names (the
// legend) instead of their values.
func single(title, description, unit string, width uint32, byName bool, q query) cog.Builder[dashboard.Panel] {
	mode := common.BigValueTextModeValueAndName
	if byName {
		mode = common.BigValueTextModeName
	}
	return stat.NewPanelBuilder().
		Title(title).
		Description(description).
		Datasource(datasource()).
		Unit(unit).
		Height(panelHeight).
		Span(width).
		TextMode(mode).
		GraphMode(common.BigValueGraphModeNone).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"})).
		WithTarget(q.target(true))
}

// distribution is a heatmap of a histogram's buckets (q sums the buckets' increases by le).
func distribution(title, description string, width uint32, q query) cog.Builder[dashboard.Panel] {
	return heatmap.NewPanelBuilder().
		Title(title).
		Description(description).
		Datasource(datasource()).
		Height(panelHeight).
		Span(width).
		Calculate(false).
		YAxis(heatmap.NewYAxisConfigBuilder().Unit("short")).
		WithTarget(q.target(false).Format(prometheus.PromQueryFormatHeatmap))
}
