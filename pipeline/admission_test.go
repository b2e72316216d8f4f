package pipeline

import (
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/vitseg/vitseg/events"
)

func TestAdmission(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	attempt := func(n string) []kafka.Header { return []kafka.Header{{Key: events.HeaderAttempt, Value: []byte(n)}} }
	tests := []struct {
		name   string
		maxAge time.Duration
		msg    kafka.Message
		want   events.ErrorClass
	}{
		{"first delivery", 0, kafka.Message{Time: now.Add(-time.Hour)}, ""},
		{"last allowed attempt", 0, kafka.Message{Headers: attempt("3")}, ""},
		{"over the attempts", 0, kafka.Message{Headers: attempt("4")}, events.ClassAttemptsExhausted},
		{"no deadline", 0, kafka.Message{Time: now.Add(-48 * time.Hour)}, ""},
		{"young enough", time.Hour, kafka.Message{Time: now.Add(-59 * time.Minute)}, ""},
		{"expired", time.Hour, kafka.Message{Time: now.Add(-61 * time.Minute)}, events.ClassExpired},
		{"no timestamp", time.Hour, kafka.Message{}, ""},
		{"attempts before age", time.Hour, kafka.Message{Time: now.Add(-2 * time.Hour), Headers: attempt("9")}, events.ClassAttemptsExhausted},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{MaxAge: tc.maxAge}.withDefaults()
			p := &Pipeline{cfg: cfg}
			class, why := p.admission(tc.msg, now)
			if class != tc.want || (class != "") != (why != "") {
				t.Errorf("admission = %q %q, want class %q", class, why, tc.want)
			}
		})
	}
}
