package registry

import (
	"errors"
	"math"
	"sync"
	"sync/atomic"
	"testing"
)

// TestCandidateLifecycle: a version that passes the gate with PublishOptions.Candidate is proposed instead of
// made current; a newer candidate supersedes it; of several replicas resolving the candidate at once exactly
// one wins, and the decision takes effect once.
func TestCandidateLifecycle(t *testing.T) {
	e := newEnv(t)
	ctx := testCtx(t)
	publish := func(acc0 float64, candidate bool) PublishResult {
		t.Helper()
		res, err := e.reg.Publish(ctx, fakeModel(int(acc0*100)), versionMeta("val", acc(acc0)), PublishOptions{Candidate: candidate})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	if res := publish(0.8, true); !res.Published || res.Candidate {
		t.Fatalf("first version with Candidate: %+v, want published (nothing to shadow)", res)
	}
	if res := publish(0.5, true); res.Candidate || res.Published {
		t.Fatalf("gate-failing candidate: %+v, want rejected", res)
	}
	first := publish(0.81, true)
	second := publish(0.82, true)
	if !second.Candidate || second.Published {
		t.Fatalf("candidate publish: %+v", second)
	}
	c, err := e.reg.Candidate(ctx)
	if err != nil || c.Version != second.Version || c.Base != "000001" {
		t.Fatalf("candidate.json = %+v, %v; want %s on base 000001", c, err, second.Version)
	}
	if m, _ := e.reg.Get(ctx, first.Version); m.Status != StatusRejected {
		t.Errorf("superseded candidate has status %q, want rejected", m.Status)
	}
	if cur, _ := e.reg.Current(ctx); cur.Version != "000001" {
		t.Errorf("a candidate moved current.json to %s", cur.Version)
	}

	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			r := New(e.client, testBucket, "vitseg")
			won, err := r.Resolve(ctx, Decision{Version: second.Version, Outcome: OutcomePromoted, Reason: "agreement", Automatic: true})
			if err != nil {
				t.Error(err)
			}
			if won {
				wins.Add(1)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d replicas won the decision, want 1", wins.Load())
	}
	cur, err := e.reg.Current(ctx)
	if err != nil || cur.Version != second.Version || cur.Previous != "000001" {
		t.Fatalf("current after promotion = %+v, %v", cur, err)
	}
	if m, _ := e.reg.Get(ctx, second.Version); m.Status != StatusPublished || m.Reason != "agreement" {
		t.Errorf("promoted candidate metadata: %q %q", m.Status, m.Reason)
	}
	c, _ = e.reg.Candidate(ctx)
	if c.Version != "" || c.Last == nil || c.Last.Outcome != OutcomePromoted {
		t.Errorf("candidate.json after the decision = %+v", c)
	}
	if won, err := e.reg.Resolve(ctx, Decision{Version: second.Version, Outcome: OutcomeRejected}); won || err != nil {
		t.Errorf("deciding a cleared candidate again: %v, %v", won, err)
	}

	third := publish(0.83, true)
	if won, err := e.reg.Resolve(ctx, Decision{Version: third.Version, Outcome: OutcomeRejected, Reason: "disagrees"}); !won || err != nil {
		t.Fatalf("reject: %v, %v", won, err)
	}
	if m, _ := e.reg.Get(ctx, third.Version); m.Status != StatusRejected || m.Reason != "disagrees" {
		t.Errorf("rejected candidate metadata: %q %q", m.Status, m.Reason)
	}
	if cur, _ := e.reg.Current(ctx); cur.Version != second.Version {
		t.Errorf("a rejection moved current.json to %s", cur.Version)
	}
}

// TestRollbackFrom: only a rollback from the version still current moves the pointer.
func TestRollbackFrom(t *testing.T) {
	e := newEnv(t)
	ctx := testCtx(t)
	for _, a := range []float64{0.8, 0.9} {
		if _, err := e.reg.Publish(ctx, fakeModel(int(a*10)), versionMeta("val", acc(a)), PublishOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		from       string
		wantRolled bool
		wantCur    string
	}{{"000001", false, "000002"}, {"000002", true, "000001"}, {"000002", false, "000001"}} {
		p, rolled, err := e.reg.RollbackFrom(ctx, tc.from)
		if err != nil || rolled != tc.wantRolled || p.Version != tc.wantCur {
			t.Errorf("RollbackFrom(%s) = %+v, %v, %v; want rolled %v, current %s", tc.from, p, rolled, err, tc.wantRolled, tc.wantCur)
		}
	}
}

// TestUpdateShadowMerges: replicas adding to shadow.json at once lose no update.
func TestUpdateShadowMerges(t *testing.T) {
	e := newEnv(t, WithMaxAttempts(100))
	ctx := testCtx(t)
	if _, err := e.reg.Shadow(ctx, "000007"); !errors.Is(err, ErrNoSummary) {
		t.Fatalf("Shadow without a summary: %v, want ErrNoSummary", err)
	}
	const replicas, adds = 4, 5
	var wg sync.WaitGroup
	for range replicas {
		wg.Go(func() {
			r := New(e.client, testBucket, "vitseg", WithMaxAttempts(100))
			for range adds {
				_, err := r.UpdateShadow(ctx, "000007", func(s *ShadowSummary, _ bool) (bool, error) {
					var d ShadowStats
					d.Images, d.AgreementSum = 2, 1.5
					d.Latency.Observe(0.01)
					s.Shadow.Add(d)
					return true, nil
				})
				if err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	s, err := e.reg.Shadow(ctx, "000007")
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(2 * replicas * adds); s.Shadow.Images != want || s.Shadow.Latency.Total() != replicas*adds {
		t.Errorf("merged %d images, %d latencies; want %d, %d", s.Shadow.Images, s.Shadow.Latency.Total(), want, replicas*adds)
	}
	if got := s.Shadow.Mean(s.Shadow.AgreementSum); math.Abs(got-0.75) > 1e-9 {
		t.Errorf("mean agreement %v, want 0.75", got)
	}
}

func TestHistogramQuantile(t *testing.T) {
	tests := []struct {
		name    string
		samples map[float64]int64
		q, want float64
	}{
		{"empty", nil, 0.99, 0},
		{"one bucket", map[float64]int64{0.0002: 10}, 0.99, 0.00025},
		{"tail decides p99", map[float64]int64{0.001: 98, 0.1: 2}, 0.99, 0.128},
		{"median ignores the tail", map[float64]int64{0.001: 98, 0.1: 2}, 0.5, 0.001},
		{"beyond the last bound", map[float64]int64{1e6: 1}, 0.99, math.Inf(1)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var h, merged Histogram
			for s, n := range tc.samples {
				h.AddCount(s, n)
			}
			merged.Add(h)
			if got := merged.Quantile(tc.q); got != tc.want {
				t.Errorf("Quantile(%v) = %v, want %v", tc.q, got, tc.want)
			}
		})
	}
}

// TestOperatorDecisions: an operator promotes or rejects the candidate by name; Lifecycle shows the last
// decision with its shadow summary.
func TestOperatorDecisions(t *testing.T) {
	e := newEnv(t)
	ctx := testCtx(t)
	for _, a := range []float64{0.8, 0.81, 0.82} {
		if _, err := e.reg.Publish(ctx, fakeModel(int(a*100)), versionMeta("val", acc(a)), PublishOptions{Candidate: true}); err != nil {
			t.Fatal(err)
		}
	}
	// 000002 was superseded by 000003.
	if err := e.reg.OperatorReject(ctx, "000002", "no"); !errors.Is(err, ErrNotCandidate) {
		t.Errorf("rejecting a superseded candidate: %v, want ErrNotCandidate", err)
	}
	if _, err := e.reg.UpdateShadow(ctx, "000003", func(s *ShadowSummary, _ bool) (bool, error) {
		s.Shadow.Images = 5
		return true, nil
	}); err != nil {
		t.Fatal(err)
	}
	st, err := e.reg.Lifecycle(ctx)
	if err != nil || st.Candidate.Version != "000003" || st.Summary == nil || st.Summary.Shadow.Images != 5 {
		t.Fatalf("Lifecycle = %+v, %v", st, err)
	}
	p, err := e.reg.OperatorPromote(ctx, "000003", "looks right")
	if err != nil || p.Version != "000003" {
		t.Fatalf("OperatorPromote = %+v, %v", p, err)
	}
	st, err = e.reg.Lifecycle(ctx)
	if err != nil || st.Candidate.Version != "" || st.Candidate.Last == nil || st.Candidate.Last.Automatic ||
		st.Candidate.Last.Reason != "looks right" || st.Summary == nil {
		t.Fatalf("Lifecycle after the decision = %+v, %v", st, err)
	}
	if p, err := e.reg.OperatorPromote(ctx, "000001", "back"); err != nil || p.Version != "000001" {
		t.Errorf("OperatorPromote of a non-candidate = %+v, %v", p, err)
	}
}
