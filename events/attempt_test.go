package events

import (
	"testing"

	"github.com/segmentio/kafka-go"
)

func TestAttempt(t *testing.T) {
	h := func(v string) kafka.Header { return kafka.Header{Key: HeaderAttempt, Value: []byte(v)} }
	tests := []struct {
		name    string
		headers []kafka.Header
		want    int
	}{
		{"first delivery", nil, 1},
		{"replayed", []kafka.Header{h("3")}, 3},
		{"last wins", []kafka.Header{h("2"), h("4")}, 4},
		{"garbage", []kafka.Header{h("x")}, 1},
		{"zero", []kafka.Header{h("0")}, 1},
		{"negative", []kafka.Header{h("-2")}, 1},
		{"other header", []kafka.Header{{Key: "attempt", Value: []byte("9")}}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Attempt(tc.headers); got != tc.want {
				t.Errorf("Attempt = %d, want %d", got, tc.want)
			}
		})
	}
}
