package pipeline_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/vitseg/vitseg/model"
	"github.com/vitseg/vitseg/model/registry"
	"github.com/vitseg/vitseg/pipeline"
)

// shippedModel is the model the project ships (model/zoo/small): real masks, so that shadow agreement means
// something.
func shippedModel(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("../model/zoo/small/model.onnx")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// lifecycleStack is a stack with a registry whose current version is the shipped model.
type lifecycleStack struct {
	*stack
	reg  *registry.Registry
	base string
}

func startLifecycleStack(t *testing.T) *lifecycleStack {
	t.Helper()
	s := startStack(t)
	s.minio.MakeBucket("models")
	l := &lifecycleStack{stack: s, reg: registry.New(s.s3, "models", "vitseg")}
	l.base = l.publish(t, shippedModel(t), false)
	return l
}

// publish publishes b through the gate (always passed: equal metrics), as the candidate or as current.
func (l *lifecycleStack) publish(t *testing.T, b []byte, candidate bool) string {
	t.Helper()
	res, err := l.reg.Publish(context.Background(), b, registry.VersionMetadata{
		Metrics: map[string]float64{"pixel_accuracy": 0.5}, EvalSplit: "val@test"}, registry.PublishOptions{Candidate: candidate})
	if err != nil || res.Published == candidate {
		t.Fatalf("publish (candidate %v): %+v, %v", candidate, res, err)
	}
	return res.Version
}

// start starts a pipeline on the registry with shadow evaluation of every image, deciding after minImages.
func (l *lifecycleStack) start(t *testing.T, minImages int64, tune ...func(*pipeline.LifecycleConfig)) *instance {
	t.Helper()
	return l.startPipeline(t, pipeline.ModelSource{Registry: l.reg, PollInterval: 100 * time.Millisecond}, testLogger(t),
		func(c *pipeline.Config) {
			c.Lifecycle = pipeline.DefaultLifecycle()
			c.Lifecycle.ShadowFraction, c.Lifecycle.Interval = 1, 200*time.Millisecond
			c.Lifecycle.Policy.MinImages, c.Lifecycle.Policy.LatencyFactor = minImages, 4
			c.Lifecycle.Rollback.Window = 10 * time.Minute
			for _, f := range tune {
				f(&c.Lifecycle)
			}
		})
}

// lastDecision waits for the decision on candidate.
func (l *lifecycleStack) lastDecision(t *testing.T, candidate string) registry.Decision {
	t.Helper()
	var c registry.CandidatePointer
	waitFor(t, 90*time.Second, "a decision on "+candidate, func() bool {
		var err error
		c, err = l.reg.Candidate(context.Background())
		return err == nil && c.Version == "" && c.Last != nil && c.Last.Version == candidate
	})
	return *c.Last
}

// feedUntilDecided uploads photos four at a time, as live traffic, until the candidate is decided (samples may
// be dropped under load, so the number needed varies); it returns how many it uploaded.
func (l *lifecycleStack) feedUntilDecided(t *testing.T, candidate string) int {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for n := 0; ; n += 4 {
		c, err := l.reg.Candidate(context.Background())
		if err == nil && c.Version == "" && c.Last != nil && c.Last.Version == candidate {
			return n
		}
		if time.Now().After(deadline) {
			t.Fatalf("no decision on %s after %d images", candidate, n)
		}
		l.upload(t, names(fmt.Sprintf("live%03d-", n), 4)...)
		time.Sleep(time.Second)
	}
}

// TestShadowPromotes: two replicas evaluate a candidate (the shipped model again, so it agrees) on the live
// images, merge their figures into one shadow.json, exactly one of them promotes it after N images, and both
// switch to it between batches without losing or duplicating an output.
func TestShadowPromotes(t *testing.T) {
	l := startLifecycleStack(t)
	results, dead := l.collect(t, resultTopic), l.collect(t, dlqTopic)
	a, b := l.start(t, 12), l.start(t, 12)
	l.upload(t, names("before", 6)...)
	waitFor(t, 90*time.Second, "6 results", func() bool { return len(results.snapshot()) >= 6 })

	cand := l.publish(t, shippedModel(t), true)
	for _, in := range []*instance{a, b} {
		waitFor(t, 60*time.Second, "the candidate loaded", func() bool { return counter(t, in, "vitseg_shadow_loads_total", "loaded") >= 1 })
	}
	shadowed := l.feedUntilDecided(t, cand)
	d := l.lastDecision(t, cand)
	if d.Outcome != registry.OutcomePromoted || !d.Automatic {
		t.Fatalf("decision %+v, want promoted automatically", d)
	}
	for _, in := range []*instance{a, b} {
		waitFor(t, 30*time.Second, "both replicas on "+cand, func() bool { return in.p.Status().ModelVersion == cand })
	}
	l.upload(t, names("after", 6)...)
	total := 6 + shadowed + 6
	waitFor(t, 90*time.Second, "every result", func() bool { return len(results.snapshot()) >= total })
	time.Sleep(500 * time.Millisecond)

	perSource, versions := map[string]int{}, map[string]string{}
	for _, ev := range decodeResults(t, results.snapshot()) {
		perSource[ev.Source.Key]++
		versions[ev.Source.Key] = ev.Model.Version
	}
	if len(perSource) != total || len(dead.snapshot()) != 0 {
		t.Errorf("%d sources processed, %d dead letters; want %d, 0", len(perSource), len(dead.snapshot()), total)
	}
	for k, n := range perSource {
		if n != 1 {
			t.Errorf("%s processed %d times, want once", k, n)
		}
	}
	for _, n := range names("before", 6) {
		if versions[uploads+n] != l.base {
			t.Errorf("%s served by %q, want %s", n, versions[uploads+n], l.base)
		}
	}
	for _, n := range names("after", 6) {
		if versions[uploads+n] != cand {
			t.Errorf("%s served by %q, want %s", n, versions[uploads+n], cand)
		}
	}
	decisions := counter(t, a, "vitseg_lifecycle_decisions_total", "promoted") + counter(t, b, "vitseg_lifecycle_decisions_total", "promoted")
	if decisions != 1 {
		t.Errorf("the replicas carried out %v promotions, want 1", decisions)
	}
	s, err := l.reg.Shadow(context.Background(), cand)
	if err != nil {
		t.Fatal(err)
	}
	if s.Shadow.Images < 12 || s.Shadow.AgreementSum != float64(s.Shadow.Images) || s.Current.Results < 12 {
		t.Errorf("shadow.json %+v: want >= 12 images in full agreement and the base's results", s.Shadow)
	}
	if m, _ := l.reg.Get(context.Background(), cand); m.Status != registry.StatusPublished {
		t.Errorf("promoted candidate has status %q", m.Status)
	}
}

// TestShadowRejectsRandom: a candidate with random weights disagrees with the shipped model and is rejected on
// agreement; current.json stays.
func TestShadowRejectsRandom(t *testing.T) {
	l := startLifecycleStack(t)
	results := l.collect(t, resultTopic)
	in := l.start(t, 8)
	cand := l.publish(t, exportPreset(t, model.PresetSmall, "random", 7), true)
	waitFor(t, 30*time.Second, "the candidate loaded", func() bool { return counter(t, in, "vitseg_shadow_loads_total", "loaded") >= 1 })
	fed := l.feedUntilDecided(t, cand)
	d := l.lastDecision(t, cand)
	if d.Outcome != registry.OutcomeRejected || !strings.Contains(d.Reason, "pixel agreement") {
		t.Fatalf("decision %+v, want rejected on pixel agreement", d)
	}
	waitFor(t, 90*time.Second, "every result", func() bool { return len(results.snapshot()) >= fed })
	for _, ev := range decodeResults(t, results.snapshot()) {
		if ev.Model.Version != l.base {
			t.Errorf("%s served by %s, want %s", ev.Source.Key, ev.Model.Version, l.base)
		}
	}
	if cur, _ := l.reg.Current(context.Background()); cur.Version != l.base {
		t.Errorf("current %s, want %s", cur.Version, l.base)
	}
	if m, _ := l.reg.Get(context.Background(), cand); m.Status != registry.StatusRejected || m.Reason != d.Reason {
		t.Errorf("rejected candidate metadata %q %q", m.Status, m.Reason)
	}
}

// TestShadowCorruptCandidate: a candidate whose file is not a model is refused once (counted, logged) and
// never disturbs serving.
func TestShadowCorruptCandidate(t *testing.T) {
	l := startLifecycleStack(t)
	results, dead := l.collect(t, resultTopic), l.collect(t, dlqTopic)
	in := l.start(t, 4)
	ctx := context.Background()
	if err := l.reg.Upload(ctx, "000050", []byte("not an onnx model"), registry.VersionMetadata{
		Metrics: map[string]float64{"pixel_accuracy": 0.9}, EvalSplit: "val@test", Status: registry.StatusShadow}, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := l.reg.Propose(ctx, "000050"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the failed load counted", func() bool { return counter(t, in, "vitseg_shadow_loads_total", "failed") >= 1 })
	l.upload(t, names("img", 8)...)
	waitFor(t, 90*time.Second, "8 results", func() bool { return len(results.snapshot()) >= 8 })
	time.Sleep(500 * time.Millisecond) // More ticks: the refused candidate is not loaded again.
	if n := counter(t, in, "vitseg_shadow_loads_total", "failed"); n != 1 {
		t.Errorf("%v failed loads, want 1 (refused until the pointer moves)", n)
	}
	if n := len(dead.snapshot()); n != 0 {
		t.Errorf("%d dead letters", n)
	}
	if st := in.p.Status(); st.ModelVersion != l.base || !st.ModelLoaded {
		t.Errorf("status %+v, want %s serving", st, l.base)
	}
}

// TestRollbackOnDeadLetters: a version promoted automatically whose dead-letter rate jumps within the window is
// rolled back to the version it replaced and marked never to be promoted automatically again.
func TestRollbackOnDeadLetters(t *testing.T) {
	l := startLifecycleStack(t)
	results := l.collect(t, resultTopic)
	in := l.start(t, 6, func(c *pipeline.LifecycleConfig) {
		c.Rollback.MinImages, c.Rollback.MaxDeadLetterIncrease = 8, 0.2
	})
	cand := l.publish(t, shippedModel(t), true)
	waitFor(t, 30*time.Second, "the candidate loaded", func() bool { return counter(t, in, "vitseg_shadow_loads_total", "loaded") >= 1 })
	fed := l.feedUntilDecided(t, cand)
	if d := l.lastDecision(t, cand); d.Outcome != registry.OutcomePromoted {
		t.Fatalf("decision %+v, want promoted", d)
	}
	waitFor(t, 30*time.Second, "serving "+cand, func() bool { return in.p.Status().ModelVersion == cand })
	waitFor(t, 90*time.Second, "every result", func() bool { return len(results.snapshot()) >= fed })
	l.upload(t, names("good", 2)...)
	l.uploadBroken(t, names("broken", 8)...)
	waitFor(t, 90*time.Second, "the rollback", func() bool {
		cur, err := l.reg.Current(context.Background())
		return err == nil && cur.Version == l.base
	})
	waitFor(t, 30*time.Second, "serving "+l.base+" again", func() bool { return in.p.Status().ModelVersion == l.base })
	if n := counter(t, in, "vitseg_lifecycle_rollbacks_total", ""); n != 1 {
		t.Errorf("%v rollbacks counted, want 1", n)
	}
	m, err := l.reg.Get(context.Background(), cand)
	if err != nil || !m.NoAutoPromote || m.Status != registry.StatusRejected || !strings.Contains(m.Reason, "dead-letter rate") {
		t.Errorf("rolled-back version metadata %+v, %v", m, err)
	}
}

// uploadBroken puts objects that are not images as uploads/NAME: each is dead-lettered as bad_image.
func (l *lifecycleStack) uploadBroken(t *testing.T, names ...string) {
	t.Helper()
	data := []byte("not an image at all")
	for _, n := range names {
		if _, err := l.s3.PutObject(context.Background(), bucket, uploads+n, bytes.NewReader(data), int64(len(data)),
			minio.PutObjectOptions{ContentType: "image/jpeg"}); err != nil {
			t.Fatal(err)
		}
	}
}
