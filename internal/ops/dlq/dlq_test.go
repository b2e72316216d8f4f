package dlq

import (
	"encoding/json"
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/vitseg/vitseg/consumer"
	"github.com/vitseg/vitseg/events"
)

var t0 = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// letter is a dead letter of the message at offset with the given headers.
func letter(offset int64, class events.ErrorClass, reason, key string, at time.Time, headers ...kafka.Header) events.DeadLetterEvent {
	msg := kafka.Message{Topic: "vitseg.images", Offset: offset, Key: []byte("k"), Value: []byte(`{"bucket":"pets","key":"` + key + `"}`), Headers: headers}
	var src *events.ObjectVersion
	if key != "" {
		src = &events.ObjectVersion{Bucket: "pets", Key: key}
	}
	return events.NewDeadLetter(msg, class, reason, src, at)
}

func attemptHeader(n int) kafka.Header {
	return kafka.Header{Key: events.HeaderAttempt, Value: fmt.Appendf(nil, "%d", n)}
}

func TestFilter(t *testing.T) {
	e := letter(1, events.ClassBadImage, "decode: unexpected EOF", "a.jpg", t0)
	tests := []struct {
		name string
		f    Filter
		want bool
	}{
		{"zero", Filter{}, true},
		{"since before", Filter{Since: t0.Add(-time.Hour)}, true},
		{"since after", Filter{Since: t0.Add(time.Second)}, false},
		{"class", Filter{Class: events.ClassBadImage}, true},
		{"other class", Filter{Class: events.ClassInternal}, false},
		{"reason", Filter{Reason: regexp.MustCompile("EOF$")}, true},
		{"other reason", Filter{Reason: regexp.MustCompile("^write")}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.f.Match(e); got != tc.want {
				t.Errorf("Match = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSummarise(t *testing.T) {
	letters := []events.DeadLetterEvent{
		letter(1, events.ClassBadImage, "decode: EOF", "a.jpg", t0),
		letter(2, events.ClassBadImage, "decode: EOF", "b.jpg", t0),
		letter(3, events.ClassBadImage, "decode: unknown format", "c.jpg", t0),
		letter(4, events.ClassMalformedMessage, "not JSON", "", t0),
	}
	got := Summarise(letters)
	want := []ClassSummary{
		{events.ClassBadImage, 3, []ReasonCount{{"decode: EOF", 2, "pets/a.jpg"}, {"decode: unknown format", 1, "pets/c.jpg"}}},
		{events.ClassMalformedMessage, 1, []ReasonCount{{"not JSON", 1, ""}}},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Summarise =\n%v\nwant\n%v", got, want)
	}
}

func TestLatest(t *testing.T) {
	first := letter(1, events.ClassBadImage, "x", "a.jpg", t0)
	again := letter(9, events.ClassBadImage, "x", "a.jpg", t0.Add(time.Minute), attemptHeader(2))
	other := letter(2, events.ClassBadImage, "x", "b.jpg", t0)
	noSource := letter(3, events.ClassMalformedMessage, "x", "", t0)
	got := Latest([]events.DeadLetterEvent{first, other, again, noSource, noSource})
	if len(got) != 3 || got[0].EventID != again.EventID || got[1].EventID != other.EventID || got[2].EventID != noSource.EventID {
		t.Errorf("Latest kept %v", got)
	}
}

func TestReplay(t *testing.T) {
	trace := kafka.Header{Key: "traceparent", Value: []byte("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")}
	tests := []struct {
		name        string
		e           events.DeadLetterEvent
		wantValue   string
		wantAttempt int
		wantErr     bool
	}{
		{"first failure", letter(1, events.ClassBadImage, "x", "up/a.jpg", t0, trace), `{"bucket":"pets","key":"up/a.jpg"}`, 2, false},
		{"second failure", letter(2, events.ClassBadImage, "x", "up/a.jpg", t0, trace, attemptHeader(2)), `{"bucket":"pets","key":"up/a.jpg"}`, 3, false},
		{"no source: original value", letter(3, events.ClassMalformedMessage, "x", "", t0), `{"bucket":"pets","key":""}`, 2, false},
		{"no source, truncated", func() events.DeadLetterEvent {
			e := letter(4, events.ClassMalformedMessage, "x", "", t0)
			e.Original.Value.Truncated = true
			return e
		}(), "", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Replay(tc.e)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if string(m.Value) != tc.wantValue || string(m.Key) != "k" {
				t.Errorf("replay value %s key %s", m.Value, m.Key)
			}
			if n := events.Attempt(m.Headers); n != tc.wantAttempt {
				t.Errorf("attempt %d, want %d", n, tc.wantAttempt)
			}
			counts := map[string]int{}
			for _, h := range m.Headers {
				counts[h.Key]++
			}
			if counts[events.HeaderAttempt] != 1 || counts[events.HeaderReplayOf] != 1 {
				t.Errorf("headers %v", m.Headers)
			}
			if len(tc.e.Original.Headers) > 0 && counts["traceparent"] != 1 {
				t.Errorf("traceparent not carried over: %v", m.Headers)
			}
			refs, err := consumer.ParseMessage(m.Value)
			if tc.e.Source != nil && (err != nil || len(refs) != 1 || refs[0].Key != tc.e.Source.Key) {
				t.Errorf("replayed value does not parse to its source: %v %v", refs, err)
			}
		})
	}
}

func ExampleReplay() {
	msg := kafka.Message{Topic: "vitseg.images", Partition: 0, Offset: 41, Value: []byte(`{"bucket":"pets","key":"up/cat.jpg"}`)}
	letter := events.NewDeadLetter(msg, events.ClassBadImage, "decode: unexpected EOF",
		&events.ObjectVersion{Bucket: "pets", Key: "up/cat.jpg"}, time.Now())
	replay, err := Replay(letter)
	if err != nil {
		panic(err)
	}
	var ref map[string]string
	_ = json.Unmarshal(replay.Value, &ref)
	fmt.Println(ref["bucket"], ref["key"], "attempt", events.Attempt(replay.Headers))
	// Output: pets up/cat.jpg attempt 2
}
