package dlq

import (
	"errors"
	"strings"
	"testing"

	"github.com/vitseg/vitseg/events"
)

// TestWriteSummary: the counts, each class with its reasons and an example, and the skipped messages.
func TestWriteSummary(t *testing.T) {
	var b strings.Builder
	WriteSummary(&b, []events.DeadLetterEvent{
		letter(1, events.ClassBadImage, "decode: EOF", "a.jpg", t0),
		letter(2, events.ClassBadImage, "decode: EOF", "a.jpg", t0),
		letter(3, events.ClassMalformedMessage, "not JSON", "", t0),
	}, 4)
	want := "dead letters: 3 (2 objects)\nbad_image: 2\n      2  decode: EOF (e.g. pets/a.jpg)\nmalformed_message: 1\n" +
		"      1  not JSON\nskipped 4 messages that are not dead-letter events\n"
	if b.String() != want {
		t.Errorf("summary:\n%s\nwant\n%s", b.String(), want)
	}
}

// TestPlanText: a dry run's steps, the refusals and the last line, with or without the letters skipped as
// processed.
func TestPlanText(t *testing.T) {
	p := Plan{Replay: []Item{{Letter: letter(1, events.ClassBadImage, "decode: EOF", "a.jpg", t0, attemptHeader(2))}},
		Processed: []events.DeadLetterEvent{letter(2, events.ClassBadImage, "decode: EOF", "b.jpg", t0)},
		Refused:   []error{errors.New("offset 3: no reference")}}
	var steps, refused strings.Builder
	p.WriteSteps(&steps)
	p.WriteRefused(&refused)
	tests := []struct{ got, want string }{
		{steps.String(), "skip pets/b.jpg: processed since it was dead-lettered\nwould replay pets/a.jpg (attempt 3): decode: EOF\n"},
		{refused.String(), "not replayed: offset 3: no reference\n"},
		{p.Outcome("vitseg.images", true), "dry run: 1 of 3 dead letters would be replayed to vitseg.images; skipped 1 objects processed since they were dead-lettered (--include-processed replays them)"},
		{Plan{}.Outcome("vitseg.images", false), "replayed 0 of 0 dead letters to vitseg.images"},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
