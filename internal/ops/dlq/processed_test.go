package dlq

import (
	"testing"
	"time"

	"github.com/vitseg/vitseg/events"
)

func TestSkipProcessed(t *testing.T) {
	result := func(key string, at time.Time) events.ResultEvent {
		return events.ResultEvent{Source: events.Source{Bucket: "pets", Key: key}, ProcessedAt: at}
	}
	letters := []events.DeadLetterEvent{
		letter(1, events.ClassMissingObject, "not found", "late.jpg", t0),
		letter(2, events.ClassMissingObject, "not found", "still-missing.jpg", t0),
		letter(3, events.ClassBadImage, "decode", "broke-again.jpg", t0.Add(time.Hour)),
		letter(4, events.ClassMalformedMessage, "not JSON", "", t0),
	}
	results := []events.ResultEvent{
		result("late.jpg", t0.Add(time.Minute)),        // uploaded late: processed after the letter
		result("broke-again.jpg", t0.Add(time.Minute)), // processed once, then failed again after
		result("other.jpg", t0.Add(time.Minute)),
	}
	keep, processed := SkipProcessed(letters, results)
	if len(processed) != 1 || processed[0].Source.Key != "late.jpg" {
		t.Errorf("processed %v, want only late.jpg", processed)
	}
	if len(keep) != 3 {
		t.Fatalf("kept %d letters, want 3", len(keep))
	}
	for i, want := range []string{"still-missing.jpg", "broke-again.jpg", ""} {
		got := ""
		if keep[i].Source != nil {
			got = keep[i].Source.Key
		}
		if got != want {
			t.Errorf("kept letter %d is about %q, want %q (in order)", i, got, want)
		}
	}
}
