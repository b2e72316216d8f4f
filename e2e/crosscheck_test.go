package e2e

import (
	"encoding/json"
	"testing"

	"github.com/vitseg/vitseg/events"
	"github.com/vitseg/vitseg/internal/ops/reconcile"
)

// crossCheck runs `vitseg reconcile --json` over the bucket and checks that it agrees with the ledger's own
// books on the expected keys: each processed (duplicated when it has several results), with as many results as
// the ledger counted, and no mask of theirs missing.
func (l *ledger) crossCheck(t *testing.T, keys []string, byKey map[string][]events.ResultEvent) {
	t.Helper()
	out, errOut, code := l.s.cli(t, "reconcile", "--bucket", bucket, "--output-prefix", outputPrefix, "--json")
	var rep reconcile.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Errorf("vitseg reconcile --json (exit %d): %v\n%s%s", code, err, out, errOut)
		return
	}
	entries := map[string]reconcile.Entry{}
	for _, e := range rep.Objects {
		entries[e.Key] = e
	}
	for _, k := range keys {
		e, ok := entries[k]
		want := reconcile.StatusProcessed
		if len(byKey[k]) > 1 {
			want = reconcile.StatusDuplicated
		}
		if !ok || e.Status != want || e.Results != len(byKey[k]) {
			t.Errorf("reconcile says %s: %+v (listed %v), the ledger counted %d results", k, e, ok, len(byKey[k]))
		}
	}
	for _, m := range rep.MissingMasks {
		t.Errorf("reconcile: mask missing: %+v", m)
	}
}
