package reconcile

import (
	"bytes"
	"context"
	"os"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/vitseg/vitseg/events"
)

var t0 = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func result(key, etag, mask string) events.ResultEvent {
	src := events.Source{Bucket: "pets", Key: key, ETag: etag}
	m := events.ModelRef{Name: "vitseg", Version: "v1"}
	return events.ResultEvent{EventID: events.ResultEventID(src, m), Source: src, Model: m,
		Mask: events.MaskRef{Bucket: "pets", Key: mask}}
}

func letter(key string, class events.ErrorClass, at time.Time) events.DeadLetterEvent {
	return events.NewDeadLetter(kafka.Message{Topic: "in", Offset: at.Unix()}, class, string(class)+" reason",
		&events.ObjectVersion{Bucket: "pets", Key: key}, at)
}

// masks is a set of existing mask keys.
func masks(keys ...string) MaskExists {
	set := map[string]bool{}
	for _, k := range keys {
		set[k] = true
	}
	return func(_ context.Context, m events.ObjectRef) (bool, error) { return set[m.Key], nil }
}

func TestBuild(t *testing.T) {
	objects := []Object{{"pets", "up/a.jpg", "e1"}, {"pets", "up/b.jpg", "e1"}, {"pets", "up/c.jpg", "e1"},
		{"pets", "up/d.jpg", "e2"}, {"pets", "up/e.jpg", "e1"}, {"pets", "up/f.jpg", "e1"}}
	results := []events.ResultEvent{
		result("up/a.jpg", "e1", "m/a"),
		result("up/b.jpg", "e1", "m/b"), result("up/b.jpg", "e1", "m/b"),
		result("up/d.jpg", "e1", "m/d-old"), // an older version only
		result("up/f.jpg", "e1", "m/f"),     // mask deleted
		result("other/x.jpg", "e1", "m/x"),  // out of scope: its mask is not checked
	}
	deadLetters := []events.DeadLetterEvent{
		letter("up/c.jpg", events.ClassBadImage, t0), letter("up/c.jpg", events.ClassAttemptsExhausted, t0.Add(time.Minute)),
		letter("up/a.jpg", events.ClassInternal, t0), // processed later: the result wins
	}
	rep, err := Build(context.Background(), "pets", "up/", objects, results, deadLetters, masks("m/a", "m/b", "m/d-old"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Status{"up/a.jpg": StatusProcessed, "up/b.jpg": StatusDuplicated, "up/c.jpg": StatusDeadLettered,
		"up/d.jpg": StatusMissing, "up/e.jpg": StatusMissing, "up/f.jpg": StatusProcessed}
	for _, e := range rep.Objects {
		if e.Status != want[e.Key] {
			t.Errorf("%s: %s, want %s (%s)", e.Key, e.Status, want[e.Key], e.Detail)
		}
		if e.Key == "up/c.jpg" && e.Class != events.ClassAttemptsExhausted {
			t.Errorf("c: class %s, want the latest letter's", e.Class)
		}
	}
	if len(rep.MissingMasks) != 1 || rep.MissingMasks[0].Mask.Key != "m/f" {
		t.Errorf("missing masks %v, want m/f", rep.MissingMasks)
	}
	if rep.Complete() || rep.Counts[StatusMissing] != 2 {
		t.Errorf("counts %v, complete %v", rep.Counts, rep.Complete())
	}
	var buf bytes.Buffer
	if err := rep.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"MISSING        pets/up/e.jpg", "MASK MISSING   pets/m/f", "INCOMPLETE"} {
		if !bytes.Contains(buf.Bytes(), []byte(s)) {
			t.Errorf("text lacks %q:\n%s", s, buf.String())
		}
	}
}

func ExampleReport_WriteText() {
	objects := []Object{{"pets", "up/cat.jpg", "e1"}, {"pets", "up/dog.jpg", "e1"}}
	results := []events.ResultEvent{result("up/cat.jpg", "e1", "masks/up/cat.jpg.e1.v1.mask.png")}
	rep, err := Build(context.Background(), "pets", "up/", objects, results, nil, masks("masks/up/cat.jpg.e1.v1.mask.png"))
	if err != nil {
		panic(err)
	}
	_ = rep.WriteText(os.Stdout)
	// Output:
	// reconcile pets/up/: 2 objects: 1 processed, 0 duplicated, 0 dead-lettered, 1 missing; 0 results with a missing mask
	// MISSING        pets/up/dog.jpg: no result or dead-letter event
	// INCOMPLETE: something is missing
}
