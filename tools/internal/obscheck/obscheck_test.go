package obscheck_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vitseg/vitseg/tools/internal/obscheck"
)

func TestSubstitute(t *testing.T) {
	vars := map[string]string{"job": "vitseg", "instance": ".+", "__rate_interval": "1m", "__rate": "WRONG"}
	tests := []struct {
		expr, want, wantErr string
	}{
		{`rate(x{job=~"$job",instance=~"$instance"}[$__rate_interval])`, `rate(x{job=~"vitseg",instance=~".+"}[1m])`, ""},
		{`x{job="${job}"} + y{job="[[job]]"}`, `x{job="vitseg"} + y{job="vitseg"}`, ""},
		{`x{a=~"b$"}`, `x{a=~"b$"}`, ""},
		{`x{pod=~"$pod"}`, "", "$pod"},
	}
	for _, tc := range tests {
		got, err := obscheck.Substitute(tc.expr, vars)
		if got != tc.want || (err == nil) != (tc.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("Substitute(%q) = %q, %v; want %q, error naming %q", tc.expr, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestDashboardQueries(t *testing.T) {
	dash := `{"panels": [
		{"type": "row", "title": "Collapsed", "panels": [{"title": "inner", "targets": [{"expr": "a"}]}]},
		{"title": "two", "targets": [{"expr": "b"}, {"expr": " "}, {"expr": "c"}]},
		{"title": "text"}]}`
	got, err := obscheck.DashboardQueries([]byte(dash))
	want := []obscheck.Query{{Panel: "inner", Expr: "a"}, {Panel: "two", Expr: "b"}, {Panel: "two", Expr: "c"}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("DashboardQueries = %v, %v; want %v", got, err, want)
	}
	if _, err := obscheck.DashboardQueries([]byte(`{"panels": []}`)); err == nil {
		t.Error("a dashboard without queries passed")
	}
}

func TestSelectors(t *testing.T) {
	tests := []struct {
		expr    string
		want    []obscheck.Selector
		wantErr bool
	}{
		{expr: `sum by (job) (rate(b_total{job="x",class!=""}[5m])) / sum(rate(b_total{op="y"}[5m])) > 0.1 unless on (job) up == 0`,
			want: []obscheck.Selector{{Metric: "b_total", Labels: []string{"class", "job", "op"}}, {Metric: "up"}}},
		{expr: `histogram_quantile(0.99, sum by (le) (rate(h_bucket[1m])))`, want: []obscheck.Selector{{Metric: "h_bucket"}}},
		{expr: `rate(x[5m]`, wantErr: true},
	}
	for _, tc := range tests {
		got, err := obscheck.Selectors(tc.expr)
		if (err != nil) != tc.wantErr || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Selectors(%q) = %+v, %v; want %+v", tc.expr, got, err, tc.want)
		}
	}
}

func TestRuleFileAlerts(t *testing.T) {
	file := "groups:\n- name: g\n  rules:\n  - record: r\n    expr: x\n  - alert: A\n    expr: up == 0\n"
	got, err := obscheck.RuleFileAlerts([]byte(file))
	if want := []obscheck.Alert{{Name: "A", Expr: "up == 0"}}; err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("RuleFileAlerts = %v, %v", got, err)
	}
}

// fakeProm answers instant queries from a table (expression -> series count); an expression it does not
// know is a bad query.
func fakeProm(t *testing.T, answers map[string]int) *obscheck.Client {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query().Get("query")
		n, ok := answers[q]
		if !ok {
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(map[string]string{"status": "error", "errorType": "bad_data", "error": "parse error: " + q})
			return
		}
		result := make([]map[string]any, n)
		for i := range result {
			result[i] = map[string]any{"metric": map[string]string{"job": "vitseg"}, "value": []any{1.5, "NaN"}}
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"status": "success",
			"data": map[string]any{"resultType": "vector", "result": result}})
	}))
	t.Cleanup(srv.Close)
	return obscheck.NewClient(srv.URL, srv.Client())
}

func TestChecker(t *testing.T) {
	c := &obscheck.Checker{Vars: map[string]string{"job": "vitseg"}, Absent: map[string]bool{"kube_x": true},
		Client: fakeProm(t, map[string]int{
			`up{job="vitseg"}`: 1, `rate(nodata[1m])`: 0,
			`up == 0`: 0, `count(up)`: 1,
			`a_total{class="z"} > 0`: 0, `count(a_total)`: 1, `count(a_total{class!=""})`: 0,
			`kube_x > 0`: 0,
		})}
	ctx := context.Background()
	got := c.CheckDashboard(ctx, []obscheck.Query{{"up", `up{job="$job"}`}, {"empty", `rate(nodata[1m])`}, {"typo", `$jbo`}})
	if len(got) != 2 || got[0].What != `dashboard panel "empty"` || got[1].What != `dashboard panel "typo"` {
		t.Errorf("CheckDashboard problems: %v", got)
	}
	got = c.CheckAlerts(ctx, []obscheck.Alert{{"Down", "up == 0"}, {"NoLabel", `a_total{class="z"} > 0`},
		{"Absent", "kube_x > 0"}, {"Bad", "rate(up[5m]"}})
	if len(got) != 2 || !strings.Contains(got[0].Detail, `count(a_total{class!=""})`) || got[1].What != "alert Bad" {
		t.Errorf("CheckAlerts problems: %v", got)
	}
	wctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := c.WaitForData(wctx, 10*time.Millisecond, "count(up)"); err != nil {
		t.Errorf("WaitForData with data: %v", err)
	}
	if err := c.WaitForData(wctx, 10*time.Millisecond, "up == 0"); err == nil || !strings.Contains(err.Error(), "up == 0") {
		t.Errorf("WaitForData without data: %v", err)
	}
}
