package pipeline_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/vitseg/vitseg/internal/testsupport/modeltest"
	"github.com/vitseg/vitseg/model"
	"github.com/vitseg/vitseg/model/registry"
	"github.com/vitseg/vitseg/pipeline"
)

// labeledPrefix is where the labeled dataset of the feedback tests lies, in the Oxford-IIIT Pet layout, under
// the watched and allowed uploads/ prefix: its photos are served, its trimaps arrive later as feedback.
const labeledPrefix = uploads + "labeled/"

// labeledPets are photos of the sample dataset with their trimaps.
var labeledPets = []string{"Abyssinian_1", "Bengal_10", "american_bulldog_10", "Abyssinian_34", "Bengal_1", "Abyssinian_10"}

// uploadLabeled puts the sample photos of names under labeledPrefix/images/, or their trimaps under
// labeledPrefix/annotations/trimaps/.
func (s *stack) uploadLabeled(t *testing.T, trimaps bool, names ...string) {
	t.Helper()
	dir := modeltest.DatasetDir(t)
	for _, n := range names {
		from, to, typ := filepath.Join(dir, "images", n+".jpg"), labeledPrefix+"images/"+n+".jpg", "image/jpeg"
		if trimaps {
			from, to, typ = filepath.Join(dir, "annotations", "trimaps", n+".png"), labeledPrefix+"annotations/trimaps/"+n+".png", "image/png"
		}
		data, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.s3.PutObject(context.Background(), bucket, to, bytes.NewReader(data), int64(len(data)),
			minio.PutObjectOptions{ContentType: typ}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestShadowRejectsOnLabeledAccuracy: trimaps that arrive for served photos are scored, not segmented: the
// shipped model (current) and a candidate with random weights are scored against them, each label is marked
// scored once in the registry, and the candidate is rejected on its live labeled accuracy.
func TestShadowRejectsOnLabeledAccuracy(t *testing.T) {
	l := startLifecycleStack(t)
	results, dead := l.collect(t, resultTopic), l.collect(t, dlqTopic)
	in := l.start(t, 2, func(c *pipeline.LifecycleConfig) {
		c.LabelsPrefix = bucket + "/" + labeledPrefix
		c.Policy.MinLabeled = int64(len(labeledPets))
	})
	cand := l.publish(t, exportPreset(t, model.PresetSmall, "random", 7), true)
	waitFor(t, 30*time.Second, "the candidate loaded", func() bool { return counter(t, in, "vitseg_shadow_loads_total", "loaded") >= 1 })
	l.uploadLabeled(t, false, labeledPets...)
	waitFor(t, 90*time.Second, "the photos served", func() bool { return len(results.snapshot()) >= len(labeledPets) })
	l.uploadLabeled(t, true, labeledPets...)

	d := l.lastDecision(t, cand)
	if d.Outcome != registry.OutcomeRejected || !strings.Contains(d.Reason, "labeled pixel accuracy") {
		t.Fatalf("decision %+v, want rejected on labeled pixel accuracy", d)
	}
	s, err := l.reg.Shadow(context.Background(), cand)
	if err != nil {
		t.Fatal(err)
	}
	sh, cur := s.Shadow.Labeled, s.Current.Labeled
	t.Logf("labeled pixel accuracy: candidate %.4f, current %.4f on %d photos; %s", sh.Accuracy(), cur.Accuracy(), sh.Images, d.Reason)
	if sh.Images != int64(len(labeledPets)) || cur.Images != sh.Images || cur.Accuracy() < 0.8 || sh.Accuracy() >= cur.Accuracy() {
		t.Errorf("labeled figures: candidate %+v (%.4f), current %+v (%.4f); want %d photos each, the shipped model above 0.8 and better",
			sh, sh.Accuracy(), cur, cur.Accuracy(), len(labeledPets))
	}
	scored, err := l.reg.ScoredLabels(context.Background(), bucket, labeledPrefix)
	if err != nil {
		t.Fatal(err)
	}
	if len(scored) != len(labeledPets) {
		t.Errorf("%d labels marked scored, want %d", len(scored), len(labeledPets))
	}
	if n := counter(t, in, "vitseg_lifecycle_labeled_total", "scored"); n != float64(len(labeledPets)) {
		t.Errorf("%v labels counted scored, want %d", n, len(labeledPets))
	}
	waitFor(t, 30*time.Second, "every message committed", func() bool { return l.committedToEnd(t) })
	if n, d := len(results.snapshot()), len(dead.snapshot()); n != len(labeledPets) || d != 0 {
		t.Errorf("%d results, %d dead letters; want one result per photo and none for the trimaps", n, d)
	}
}

// TestLabelScoredOnce: a trimap delivered again (a redelivery, or another replica) is not counted twice, and a
// trimap whose photo is missing is skipped; neither is segmented or dead-lettered.
func TestLabelScoredOnce(t *testing.T) {
	l := startLifecycleStack(t)
	results, dead := l.collect(t, resultTopic), l.collect(t, dlqTopic)
	in := l.start(t, 1000, func(c *pipeline.LifecycleConfig) { c.LabelsPrefix = bucket + "/" + labeledPrefix })
	l.uploadLabeled(t, false, labeledPets[0])
	l.uploadLabeled(t, true, labeledPets[:2]...) // The second has no photo.
	waitFor(t, 60*time.Second, "two labels handled", func() bool {
		return counter(t, in, "vitseg_lifecycle_labeled_total", "scored")+counter(t, in, "vitseg_lifecycle_labeled_total", "skipped") >= 2
	})
	ref := `{"bucket":"` + bucket + `","key":"` + labeledPrefix + "annotations/trimaps/" + labeledPets[0] + `.png"}`
	l.produceRaw(t, []byte(ref))
	waitFor(t, 60*time.Second, "the label delivered again", func() bool {
		return counter(t, in, "vitseg_lifecycle_labeled_total", "already_scored") >= 1
	})
	for result, want := range map[string]float64{"scored": 1, "skipped": 1, "already_scored": 1, "failed": 0} {
		if n := counter(t, in, "vitseg_lifecycle_labeled_total", result); n != want {
			t.Errorf("%v labels %s, want %v", n, result, want)
		}
	}
	waitFor(t, 30*time.Second, "every message committed", func() bool { return l.committedToEnd(t) })
	if n, d := len(results.snapshot()), len(dead.snapshot()); n != 1 || d != 0 {
		t.Errorf("%d results, %d dead letters; want the photo's result only", n, d)
	}
}
