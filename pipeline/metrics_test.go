package pipeline

import (
	"testing"

	"github.com/vitseg/vitseg/events"
)

// TestLabelledCountersStartAtZero: every error class, retried operation and reload result has its series,
// at 0, from the start, so that rate() sees the first event of each.
func TestLabelledCountersStartAtZero(t *testing.T) {
	families, err := newMetrics().registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{
		"vitseg_dead_lettered_total": len(events.ErrorClasses()),
		"vitseg_images_failed_total": len(events.ErrorClasses()),
		"vitseg_retries_total":       len(retryOperations()),
		"vitseg_model_reloads_total": 3,
	}
	for _, f := range families {
		n, ok := want[f.GetName()]
		if !ok {
			continue
		}
		delete(want, f.GetName())
		if len(f.GetMetric()) != n {
			t.Errorf("%s has %d series, want %d", f.GetName(), len(f.GetMetric()), n)
		}
		for _, m := range f.GetMetric() {
			if v := m.GetCounter().GetValue(); v != 0 {
				t.Errorf("%s %v starts at %v", f.GetName(), m.GetLabel(), v)
			}
		}
	}
	for name := range want {
		t.Errorf("%s is not exposed before its first event", name)
	}
}
