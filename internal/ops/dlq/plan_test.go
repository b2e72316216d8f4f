package dlq

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/vitseg/vitseg/events"
)

// TestPlanReplay: the plan judges each object by its latest letter, skips objects processed since, refuses
// letters it cannot redrive, and keeps the selected letters' order.
func TestPlanReplay(t *testing.T) {
	truncated := events.NewDeadLetter(kafka.Message{Topic: "vitseg.images", Offset: 9,
		Value: bytes.Repeat([]byte("x"), events.MaxPayloadBytes+1)}, events.ClassMalformedMessage, "too long", nil, t0)
	letters := []events.DeadLetterEvent{
		letter(1, events.ClassMissingObject, "not found", "a.jpg", t0),
		letter(2, events.ClassMissingObject, "not found", "late.jpg", t0),
		letter(3, events.ClassMissingObject, "not found", "again.jpg", t0),
		letter(4, events.ClassBadImage, "decode", "again.jpg", t0.Add(time.Hour)), // its latest: another class
		letter(5, events.ClassMalformedMessage, "not JSON", "", t0),
		truncated,
	}
	results := []events.ResultEvent{{Source: events.Source{Bucket: "pets", Key: "late.jpg"}, ProcessedAt: t0.Add(time.Minute)}}
	tests := []struct {
		name                             string
		f                                Filter
		results                          []events.ResultEvent
		replay                           []string
		processed, refused, wantSelected int
	}{
		{"missing objects", Filter{Class: events.ClassMissingObject}, results, []string{"pets/a.jpg"}, 1, 0, 2},
		{"processed ones too", Filter{Class: events.ClassMissingObject}, nil, []string{"pets/a.jpg", "pets/late.jpg"}, 0, 0, 2},
		{"malformed, one cut short", Filter{Class: events.ClassMalformedMessage}, results,
			[]string{"message " + letters[4].EventID}, 0, 1, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := PlanReplay(letters, tc.results, tc.f)
			var got []string
			for _, it := range p.Replay {
				got = append(got, Subject(it.Letter))
			}
			if len(got) != len(tc.replay) || len(p.Processed) != tc.processed || len(p.Refused) != tc.refused ||
				p.Selected() != tc.wantSelected || len(p.Messages()) != len(tc.replay) {
				t.Fatalf("replay %v, %d processed, %d refused, %d selected; want %v, %d, %d, %d",
					got, len(p.Processed), len(p.Refused), p.Selected(), tc.replay, tc.processed, tc.refused, tc.wantSelected)
			}
			for i := range got {
				if got[i] != tc.replay[i] {
					t.Errorf("replay[%d] = %s, want %s", i, got[i], tc.replay[i])
				}
			}
			for _, err := range p.Refused {
				if !errors.Is(err, ErrNotReplayable) {
					t.Errorf("refusal %v is not ErrNotReplayable", err)
				}
			}
		})
	}
}
