package pipeline

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vitseg/vitseg/events"
)

// TestLabelledCountersStartAtZero: every error class, retried operation and reload result has its series from
// the start, so that rate() sees the first event of each.
func TestLabelledCountersStartAtZero(t *testing.T) {
	m := newMetrics()
	tests := []struct {
		name  string
		count int
		want  int
	}{
		{"vitseg_dead_lettered_total", testutil.CollectAndCount(m.deadLettered), len(events.ErrorClasses())},
		{"vitseg_images_failed_total", testutil.CollectAndCount(m.failed), len(events.ErrorClasses())},
		{"vitseg_retries_total", testutil.CollectAndCount(m.retries), len(retryOperations())},
		{"vitseg_model_reloads_total", testutil.CollectAndCount(m.modelReloads), 3},
	}
	for _, tc := range tests {
		if tc.count != tc.want {
			t.Errorf("%s has %d series, want %d", tc.name, tc.count, tc.want)
		}
	}
	if v := testutil.ToFloat64(m.deadLettered.WithLabelValues(string(events.ClassBadImage))); v != 0 {
		t.Errorf("bad_image dead letters start at %v", v)
	}
}
