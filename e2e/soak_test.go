package e2e

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
)

// How many images TestSoak streams through: a short variant always, about 2,000 with VITSEG_LONG=1.
const (
	soakImagesCI   = 300
	soakImagesLong = 2000
)

// rssSample is one reading of the serve process's resident set size.
type rssSample struct {
	at   time.Duration
	done int // result events so far
	rss  int64
}

// TestSoak streams soakImagesCI uploads (soakImagesLong with VITSEG_LONG=1; a few photos under many keys, four
// uploaders in parallel) through the full stack while sampling the serve process's RSS from /proc/PID/status
// every 250 ms. After warm-up (a fifth of the images) memory must stay flat: the test fails when the last sample
// (and the one at 90 % of the images) is both over 1.5 times and over 100 MiB above the post-warm-up one.
// Nothing may be lost.
func TestSoak(t *testing.T) {
	soakImages := pick(soakImagesCI, soakImagesLong)
	s := startStack(t, stackConfig{})
	l := s.newLedger(t)
	photos := samplePhotos(t)
	srv := s.startServe(t, serveConfig{model: tinyModel(t, 1)})
	start := time.Now()

	var mu sync.Mutex
	var samples []rssSample
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			rss, err := srv.rss()
			if err == nil {
				done := len(l.results.snapshot())
				mu.Lock()
				samples = append(samples, rssSample{at: time.Since(start), done: done, rss: rss})
				mu.Unlock()
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()

	keys := make([]string, soakImages)
	errs := make(chan error, 4)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < soakImages; i += 4 {
				key := fmt.Sprintf("%ssoak-%05d.jpg", uploads, i)
				keys[i] = key
				data := photos[i%len(photos)]
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				_, err := s.s3.PutObject(ctx, bucket, key, bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{})
				cancel()
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		t.Fatalf("upload: %v", err)
	}
	uploaded := time.Since(start)
	l.waitResults(t, keys, len(keys), pick(180*time.Second, 600*time.Second))
	elapsed := time.Since(start)
	time.Sleep(500 * time.Millisecond) // a last sample or two at rest
	close(stop)
	<-sampled
	tl := l.verify(t, keys, 60*time.Second)

	mu.Lock()
	defer mu.Unlock()
	if len(samples) < 4 {
		t.Fatalf("only %d RSS samples", len(samples))
	}
	first, last := samples[0], samples[len(samples)-1]
	warm, late, peak := last, last, first
	for _, sm := range samples {
		if sm.done >= soakImages/5 && warm == last {
			warm = sm
		}
		if sm.done >= soakImages*9/10 && late == last {
			late = sm
		}
		if sm.rss > peak.rss {
			peak = sm
		}
	}
	mib := func(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
	t.Logf("RSS first %s, post-warm-up %s (at %d results, %s), at 90%% %s (at %d results), last %s, peak %s (at %d results); %d samples",
		mib(first.rss), mib(warm.rss), warm.done, warm.at.Round(time.Millisecond), mib(late.rss), late.done,
		mib(last.rss), mib(peak.rss), peak.done, len(samples))
	for _, sm := range []rssSample{late, last} {
		if float64(sm.rss) > 1.5*float64(warm.rss) && sm.rss-warm.rss > 100<<20 {
			t.Errorf("memory grew after warm-up: %s -> %s (at %d results)", mib(warm.rss), mib(sm.rss), sm.done)
		}
	}
	t.Logf("FIGURES soak images=%d uploaded_in=%s processed_in=%s rate=%.1f/s rss_first=%s rss_warm=%s rss_90pct=%s rss_last=%s rss_peak=%s in=%d unique=%d duplicates=%d lost=%d go_heap_inuse=%s",
		soakImages, uploaded.Round(time.Millisecond), elapsed.Round(time.Millisecond), float64(soakImages)/elapsed.Seconds(),
		mib(first.rss), mib(warm.rss), mib(late.rss), mib(last.rss), mib(peak.rss), tl.Inputs, tl.Unique, tl.Duplicates, tl.Lost,
		mib(int64(srv.metric("go_memstats_heap_inuse_bytes"))))
}
