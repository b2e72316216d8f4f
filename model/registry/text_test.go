package registry_test

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/vitseg/vitseg/model/registry"
)

// TestWriteText: the version table marks the current version; the lifecycle status names the candidate, the last
// decision and the shadow summary, and "none" where there is nothing.
func TestWriteText(t *testing.T) {
	at := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	rejected := &registry.Decision{Version: "000002", Outcome: registry.OutcomeRejected, Reason: "too slow", At: at}
	tests := []struct {
		name  string
		write func(w io.Writer) error
		want  []string
	}{
		{"versions", registry.Versions{Current: "000001", List: []registry.VersionMetadata{
			{Version: "000001", Status: "published", Metrics: map[string]float64{"pixel_accuracy": 0.5}, CreatedAt: at},
			{Version: "000002", Status: "rejected", CreatedAt: at, Reason: "worse"}}}.WriteText,
			[]string{"VERSION  STATUS     CURRENT  PIXEL_ACC", "000001   published  *        0.5000", "000002   rejected            0.0000"}},
		{"no lifecycle", registry.LifecycleStatus{}.WriteText, []string{"current:    none (previous none)\ncandidate:  none\n"}},
		{"decided", registry.LifecycleStatus{Current: registry.Pointer{Version: "000001"},
			Candidate: registry.CandidatePointer{Last: rejected}, Summary: &registry.ShadowSummary{Version: "000002",
				Base: "000001", Shadow: registry.ShadowStats{Images: 4, AgreementSum: 2}, Decision: rejected}}.WriteText,
			[]string{"last decision:     000002 rejected (operator, 2026-12-01T12:00:00Z): too slow",
				"shadow of 000002:  4 images, 0 errors, 0 dropped; pixel agreement 0.5000",
				"policy decision:   000002 rejected (operator"}},
	}
	for _, tc := range tests {
		var b strings.Builder
		if err := tc.write(&b); err != nil {
			t.Fatal(err)
		}
		for _, w := range tc.want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("%s: text lacks %q:\n%s", tc.name, w, b.String())
			}
		}
	}
}
