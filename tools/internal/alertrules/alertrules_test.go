package alertrules_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/vitseg/vitseg/tools/internal/alertrules"
)

const (
	chart        = "../../../charts/vitseg"
	committed    = chart + "/alerts/vitseg-rules.yaml"
	renderValues = chart + "/alerts/render-values.yaml"
)

// TestCommittedRulesAreCurrent fails when the chart's plain rule file is not its alert template rendered:
// run `go run ./cmd/obsgen` in tools/ after changing templates/_alerts.tpl or the alert values.
func TestCommittedRulesAreCurrent(t *testing.T) {
	want, err := alertrules.Render(chart, alertrules.DefaultRelease(), renderValues)
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

func TestRender(t *testing.T) {
	tests := []struct {
		name    string
		values  string // layered over render-values.yaml
		rel     alertrules.Release
		want    []string // substrings of the rule file
		wantErr error
	}{
		{name: "defaults", rel: alertrules.DefaultRelease(),
			want: []string{`up{job="vitseg"} == 0`, `[10m]) > 0`, "alert: VitsegTrainingJobFailed",
				`owner_name="vitseg-train"`, "> 0.05\n", "for: 5m"}},
		{name: "release name, namespace, thresholds", rel: alertrules.Release{Name: "prod", Namespace: "seg"},
			values: "alerts:\n  deadLetterRatio: {threshold: 0.2, window: 1m, for: 30s}\n",
			want:   []string{`up{job="prod-vitseg"} == 0`, `namespace="seg"`, "> 0.2\n", "[1m]", "for: 30s"}},
		{name: "job override, no training", rel: alertrules.DefaultRelease(),
			values: "alerts:\n  job: serve\ntrain:\n  enabled: false\n",
			want:   []string{`up{job="serve"} == 0`}},
		{name: "alerts disabled", rel: alertrules.DefaultRelease(), values: "alerts:\n  enabled: false\n",
			wantErr: alertrules.ErrNoRules},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			files := []string{renderValues}
			if tc.values != "" {
				f := filepath.Join(t.TempDir(), "values.yaml")
				if err := os.WriteFile(f, []byte(tc.values), 0o600); err != nil {
					t.Fatal(err)
				}
				files = append(files, f)
			}
			got, err := alertrules.Render(chart, tc.rel, files...)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err %v, want %v", err, tc.wantErr)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(got), w) {
					t.Errorf("rule file lacks %q:\n%s", w, got)
				}
			}
		})
	}
	t.Run("no training alert without training", func(t *testing.T) {
		f := filepath.Join(t.TempDir(), "values.yaml")
		if err := os.WriteFile(f, []byte("train:\n  enabled: false\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := alertrules.Render(chart, alertrules.DefaultRelease(), renderValues, f)
		if err != nil || strings.Contains(string(got), "VitsegTrainingJobFailed") {
			t.Errorf("err %v; training alert rendered without train.enabled", err)
		}
	})
}

// TestRunbooks: every alert's runbook_url points at a section of the chart's README that exists.
func TestRunbooks(t *testing.T) {
	rules, err := os.ReadFile(committed)
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(chart + "/README.md")
	if err != nil {
		t.Fatal(err)
	}
	alerts := regexp.MustCompile(`(?m)^\s*- alert: (\w+)$`).FindAllStringSubmatch(string(rules), -1)
	urls := regexp.MustCompile(`(?m)runbook_url: \S+/charts/vitseg/README\.md#(\S+)$`).FindAllStringSubmatch(string(rules), -1)
	if len(alerts) == 0 || len(urls) != len(alerts) {
		t.Fatalf("%d alerts, %d runbook URLs into the README", len(alerts), len(urls))
	}
	for i, a := range alerts {
		if anchor := strings.ToLower(a[1]); urls[i][1] != anchor {
			t.Errorf("%s: runbook anchor %q, want %q", a[1], urls[i][1], anchor)
		}
		if !strings.Contains(string(readme), "\n### "+a[1]+"\n") {
			t.Errorf("%s: the README has no section ### %s", a[1], a[1])
		}
	}
}
