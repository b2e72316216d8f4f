package registry

import (
	"errors"
	"math"
	"sync"
	"sync/atomic"
	"testing"
)

// TestScoredLabels: a label object is marked once however many replicas mark it at once, a relabelled object
// (another ETag) is a new label, the listing finds the markers under a prefix only, and a marker name that
// could not be parsed back is refused.
func TestScoredLabels(t *testing.T) {
	e := newEnv(t)
	ctx := testCtx(t)
	const key = "labeled/annotations/trimaps/Abyssinian_1.png"
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			won, err := e.reg.MarkScored(ctx, ScoredLabel{Bucket: "pets", Key: key, ETag: "e1",
				Accuracy: map[string]float64{"000001": 0.9}})
			if err != nil {
				t.Error(err)
			}
			if won {
				wins.Add(1)
			}
		})
	}
	wg.Wait()
	if n := wins.Load(); n != 1 {
		t.Errorf("%d replicas marked the label, want 1", n)
	}
	marks := []ScoredLabel{
		{Bucket: "pets", Key: key, ETag: "e2"},
		{Bucket: "pets", Key: "labeled/annotations/trimaps/Bengal_10.png", ETag: "e3"},
		{Bucket: "pets", Key: "other/annotations/trimaps/Bengal_10.png", ETag: "e4"},
		{Bucket: "cats", Key: "labeled/annotations/trimaps/Bengal_10.png", ETag: "e5"},
	}
	for _, l := range marks {
		if won, err := e.reg.MarkScored(ctx, l); !won || err != nil {
			t.Fatalf("MarkScored(%+v) = %v, %v", l, won, err)
		}
	}
	set, err := e.reg.ScoredLabels(ctx, "pets", "labeled/")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		key, etag string
		want      bool
	}{
		{key, "e1", true},
		{key, "e2", true},
		{key, "e9", false},
		{"labeled/annotations/trimaps/Bengal_10.png", "e3", true},
		{"other/annotations/trimaps/Bengal_10.png", "e4", false}, // outside the prefix listed
		{"labeled/annotations/trimaps/Bengal_10.png", "e5", false},
	}
	for _, tc := range tests {
		if got := set.Has(tc.key, tc.etag); got != tc.want {
			t.Errorf("Has(%s, %s) = %v, want %v", tc.key, tc.etag, got, tc.want)
		}
		if tc.key == "other/annotations/trimaps/Bengal_10.png" {
			continue
		}
		if got, err := e.reg.IsScored(ctx, "pets", tc.key, tc.etag); err != nil || got != tc.want {
			t.Errorf("IsScored(%s, %s) = %v, %v; want %v", tc.key, tc.etag, got, err, tc.want)
		}
	}
	for _, bad := range []ScoredLabel{{Bucket: "pets", Key: key}, {Bucket: "pets", Key: key, ETag: "a/b"}, {Key: key, ETag: "e"}} {
		if _, err := e.reg.MarkScored(ctx, bad); !errors.Is(err, ErrInvalidLabel) {
			t.Errorf("MarkScored(%+v) = %v, want ErrInvalidLabel", bad, err)
		}
	}
}

func TestLabeledStats(t *testing.T) {
	var a, b LabeledStats
	if a.Accuracy() != 0 {
		t.Errorf("empty accuracy %v", a.Accuracy())
	}
	a.Observe(0.9)
	b.Observe(0.5)
	b.Observe(0.7)
	a.Add(b)
	if a.Images != 3 || math.Abs(a.Accuracy()-0.7) > 1e-12 {
		t.Errorf("merged %+v, accuracy %v; want 3 images of mean 0.7", a, a.Accuracy())
	}
}
