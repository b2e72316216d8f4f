package e2e

import (
	"errors"
	"net/http"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vitseg/vitseg/consumer"
)

// sigtermDrain is the --drain-timeout of TestSIGTERMUnderLoad.
const sigtermDrain = 20 * time.Second

// TestSIGTERMUnderLoad: `vitseg serve` gets SIGTERM with at least 50 images in flight. It stops fetching,
// finishes them and exits cleanly within the drain deadline, having committed exactly what finished (every
// partition's committed offset is the first message without a result); a restart completes the rest, no
// message committed before the SIGTERM is processed again, and nothing is lost.
func TestSIGTERMUnderLoad(t *testing.T) {
	s := startStack(t, stackConfig{})
	l := s.newLedger(t)
	photos := samplePhotos(t)
	keys := s.uploadPhotos(t, photos, names("load", pick(300, 1000))...)
	srv := s.startServe(t, serveConfig{model: tinyModel(t, 1), args: []string{"--drain-timeout", sigtermDrain.String()}})
	var inFlight int
	waitFor(t, 60*time.Second, "at least 50 images in flight", func() bool {
		_, r := srv.readyz()
		inFlight = r.InFlight
		return inFlight >= 50
	})
	doneBefore := l.countDone(t, keys)
	sent := time.Now()
	err := srv.signal(syscall.SIGTERM, sigtermDrain+10*time.Second)
	exitedAfter := time.Since(sent)
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("SIGTERM: %v", err)
	}
	if err != nil {
		t.Errorf("serve exited with %v after SIGTERM, want a clean exit", err)
	}
	if exitedAfter > sigtermDrain {
		t.Errorf("exited %s after SIGTERM, over the drain deadline %s", exitedAfter, sigtermDrain)
	}
	if !strings.Contains(srv.logs(), "drained in-flight work") {
		t.Error(`no "drained in-flight work" in the log`)
	}
	committed, err := s.committed()
	if err != nil {
		t.Fatal(err)
	}
	l.inputs.syncTo(t, s, partitions)
	l.results.syncTo(t, s, partitions)
	checked := l.auditCommits(t) // below every committed offset: all finished
	l.checkCommittedExactly(t, committed)
	doneAtExit := l.countDone(t, keys)

	srv.start()
	srv.waitReady(60 * time.Second)
	tl := l.verify(t, keys, 180*time.Second)
	l.checkRedeliveryAbove(t, committed)
	if code, _ := srv.readyz(); code != http.StatusOK {
		t.Errorf("readyz %d after the restart", code)
	}
	t.Logf("FIGURES test=sigterm-under-load in_flight_at_sigterm=%d done_at_sigterm=%d done_at_exit=%d exited_after=%s drain_timeout=%s committed=%v in=%d unique=%d duplicates=%d lost=%d audited=%d",
		inFlight, doneBefore, doneAtExit, exitedAfter.Round(time.Millisecond), sigtermDrain, committed, tl.Inputs, tl.Unique,
		tl.Duplicates, tl.Lost, checked)
}

// checkCommittedExactly checks that, with the pipeline stopped, every partition's committed offset is its first
// input message without a result event: nothing that finished was left uncommitted.
func (l *ledger) checkCommittedExactly(t *testing.T, committed map[int]int64) {
	t.Helper()
	done := l.resultsByKey(t)
	for _, m := range l.inputs.snapshot() {
		if next := max(committed[m.Partition], 0); m.Offset != next { // -1: nothing committed, next is 0
			continue
		}
		refs, err := consumer.ParseMessage(m.Value)
		if err != nil || len(refs) != 1 {
			continue
		}
		if len(done[refs[0].Key]) > 0 {
			t.Errorf("partition %d: committed offset %d, but that message (%s) has its result: finished work left uncommitted",
				m.Partition, committed[m.Partition], refs[0].Key)
		}
	}
}
