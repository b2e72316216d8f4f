package dlq

import (
	"encoding/json"
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/vitseg/vitseg/consumer"
	"github.com/vitseg/vitseg/producer"
)

var t0 = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// letter is a dead letter of the message at offset with the given headers.
func letter(offset int64, class producer.ErrorClass, reason, key string, at time.Time, headers ...kafka.Header) producer.DeadLetterEvent {
	msg := kafka.Message{Topic: "vitseg.images", Offset: offset, Key: []byte("k"), Value: []byte(`{"bucket":"pets","key":"` + key + `"}`), Headers: headers}
	var src *producer.ObjectVersion
	if key != "" {
		src = &producer.ObjectVersion{Bucket: "pets", Key: key}
	}
	return producer.NewDeadLetter(msg, class, reason, src, at)
}

func attemptHeader(n int) kafka.Header {
	return kafka.Header{Key: consumer.HeaderAttempt, Value: fmt.Appendf(nil, "%d", n)}
}

func TestFilter(t *testing.T) {
	e := letter(1, producer.ClassBadImage, "decode: unexpected EOF", "a.jpg", t0)
	tests := []struct {
		name string
		f    Filter
		want bool
	}{
		{"zero", Filter{}, true},
		{"since before", Filter{Since: t0.Add(-time.Hour)}, true},
		{"since after", Filter{Since: t0.Add(time.Second)}, false},
		{"class", Filter{Class: producer.ClassBadImage}, true},
		{"other class", Filter{Class: producer.ClassInternal}, false},
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
	events := []producer.DeadLetterEvent{
		letter(1, producer.ClassBadImage, "decode: EOF", "a.jpg", t0),
		letter(2, producer.ClassBadImage, "decode: EOF", "b.jpg", t0),
		letter(3, producer.ClassBadImage, "decode: unknown format", "c.jpg", t0),
		letter(4, producer.ClassMalformedMessage, "not JSON", "", t0),
	}
	got := Summarise(events)
	want := []ClassSummary{
		{producer.ClassBadImage, 3, []ReasonCount{{"decode: EOF", 2, "pets/a.jpg"}, {"decode: unknown format", 1, "pets/c.jpg"}}},
		{producer.ClassMalformedMessage, 1, []ReasonCount{{"not JSON", 1, ""}}},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Summarise =\n%v\nwant\n%v", got, want)
	}
}

func TestLatest(t *testing.T) {
	first := letter(1, producer.ClassBadImage, "x", "a.jpg", t0)
	again := letter(9, producer.ClassBadImage, "x", "a.jpg", t0.Add(time.Minute), attemptHeader(2))
	other := letter(2, producer.ClassBadImage, "x", "b.jpg", t0)
	noSource := letter(3, producer.ClassMalformedMessage, "x", "", t0)
	got := Latest([]producer.DeadLetterEvent{first, other, again, noSource, noSource})
	if len(got) != 3 || got[0].EventID != again.EventID || got[1].EventID != other.EventID || got[2].EventID != noSource.EventID {
		t.Errorf("Latest kept %v", got)
	}
}

func TestReplay(t *testing.T) {
	trace := kafka.Header{Key: "traceparent", Value: []byte("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")}
	tests := []struct {
		name        string
		e           producer.DeadLetterEvent
		wantValue   string
		wantAttempt int
		wantErr     bool
	}{
		{"first failure", letter(1, producer.ClassBadImage, "x", "up/a.jpg", t0, trace), `{"bucket":"pets","key":"up/a.jpg"}`, 2, false},
		{"second failure", letter(2, producer.ClassBadImage, "x", "up/a.jpg", t0, trace, attemptHeader(2)), `{"bucket":"pets","key":"up/a.jpg"}`, 3, false},
		{"no source: original value", letter(3, producer.ClassMalformedMessage, "x", "", t0), `{"bucket":"pets","key":""}`, 2, false},
		{"no source, truncated", func() producer.DeadLetterEvent {
			e := letter(4, producer.ClassMalformedMessage, "x", "", t0)
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
			if n := consumer.Attempt(m); n != tc.wantAttempt {
				t.Errorf("attempt %d, want %d", n, tc.wantAttempt)
			}
			counts := map[string]int{}
			for _, h := range m.Headers {
				counts[h.Key]++
			}
			if counts[consumer.HeaderAttempt] != 1 || counts[consumer.HeaderReplayOf] != 1 {
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
	letter := producer.NewDeadLetter(msg, producer.ClassBadImage, "decode: unexpected EOF",
		&producer.ObjectVersion{Bucket: "pets", Key: "up/cat.jpg"}, time.Now())
	replay, err := Replay(letter)
	if err != nil {
		panic(err)
	}
	var ref map[string]string
	_ = json.Unmarshal(replay.Value, &ref)
	fmt.Println(ref["bucket"], ref["key"], "attempt", consumer.Attempt(replay))
	// Output: pets up/cat.jpg attempt 2
}
