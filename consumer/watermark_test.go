package consumer

import (
	"maps"
	"math/rand/v2"
	"reflect"
	"sync"
	"testing"
)

// op is one step of a watermark scenario.
type op struct {
	kind      string // "track", "done", "revoke", "reset", "committed"
	partition int
	offset    int64
	want      bool // result of track (restarted) or done (accepted)
}

func track(p int, o int64) op         { return op{kind: "track", partition: p, offset: o} }
func trackRestart(p int, o int64) op  { return op{kind: "track", partition: p, offset: o, want: true} }
func done(p int, o int64) op          { return op{kind: "done", partition: p, offset: o, want: true} }
func doneIgnored(p int, o int64) op   { return op{kind: "done", partition: p, offset: o} }
func revoke(p int) op                 { return op{kind: "revoke", partition: p} }
func reset() op                       { return op{kind: "reset"} }
func markCommitted(p int, o int64) op { return op{kind: "committed", partition: p, offset: o} }
func run(t *testing.T, w *Watermark, o op) {
	t.Helper()
	switch o.kind {
	case "track":
		if got := w.Track(o.partition, o.offset); got != o.want {
			t.Fatalf("Track(%d, %d) = %t, want %t", o.partition, o.offset, got, o.want)
		}
	case "done":
		if got := w.Done(o.partition, o.offset); got != o.want {
			t.Fatalf("Done(%d, %d) = %t, want %t", o.partition, o.offset, got, o.want)
		}
	case "revoke":
		w.revoke(o.partition)
	case "reset":
		w.reset()
	case "committed":
		w.MarkCommitted(o.partition, o.offset)
	}
}

func TestWatermark(t *testing.T) {
	tests := []struct {
		name        string
		ops         []op
		want        map[int]int64 // Committable
		uncommitted map[int]int64 // Uncommitted
		inFlight    int
	}{
		{
			name: "nothing tracked",
			want: map[int]int64{}, uncommitted: map[int]int64{},
		},
		{
			name: "tracked, none done",
			ops:  []op{track(0, 0), track(0, 1)},
			want: map[int]int64{}, uncommitted: map[int]int64{}, inFlight: 2,
		},
		{
			name: "in order",
			ops:  []op{track(0, 0), track(0, 1), track(0, 2), done(0, 0), done(0, 1), done(0, 2)},
			want: map[int]int64{0: 2}, uncommitted: map[int]int64{0: 2},
		},
		{
			name: "later offset done first holds the watermark",
			ops:  []op{track(0, 0), track(0, 1), track(0, 2), done(0, 2), done(0, 1)},
			want: map[int]int64{}, uncommitted: map[int]int64{}, inFlight: 1,
		},
		{
			name: "gap fills and the watermark jumps",
			ops:  []op{track(0, 0), track(0, 1), track(0, 2), track(0, 3), done(0, 3), done(0, 1), done(0, 0)},
			want: map[int]int64{0: 1}, uncommitted: map[int]int64{0: 1}, inFlight: 1,
		},
		{
			name: "reverse order",
			ops:  []op{track(0, 0), track(0, 1), track(0, 2), done(0, 2), done(0, 1), done(0, 0)},
			want: map[int]int64{0: 2}, uncommitted: map[int]int64{0: 2},
		},
		{
			name: "offsets with gaps (compaction, control records)",
			ops:  []op{track(0, 10), track(0, 13), track(0, 20), done(0, 13), done(0, 10)},
			want: map[int]int64{0: 13}, uncommitted: map[int]int64{0: 13}, inFlight: 1,
		},
		{
			name: "partitions are independent",
			ops: []op{track(0, 0), track(1, 5), track(0, 1), track(1, 6), track(2, 9),
				done(1, 6), done(0, 0), done(2, 9)},
			want: map[int]int64{0: 0, 2: 9}, uncommitted: map[int]int64{0: 0, 2: 9}, inFlight: 2,
		},
		{
			name: "done twice is ignored",
			ops:  []op{track(0, 0), track(0, 1), done(0, 1), doneIgnored(0, 1), done(0, 0), doneIgnored(0, 0)},
			want: map[int]int64{0: 1}, uncommitted: map[int]int64{0: 1},
		},
		{
			name: "untracked offsets and partitions are ignored",
			ops:  []op{track(0, 5), doneIgnored(0, 4), doneIgnored(0, 6), doneIgnored(3, 5)},
			want: map[int]int64{}, uncommitted: map[int]int64{}, inFlight: 1,
		},
		{
			name: "committed offsets are not reported again",
			ops:  []op{track(0, 0), track(0, 1), track(1, 0), done(0, 0), done(1, 0), markCommitted(0, 0)},
			want: map[int]int64{0: 0, 1: 0}, uncommitted: map[int]int64{1: 0}, inFlight: 1,
		},
		{
			name: "progress after a commit is reported",
			ops:  []op{track(0, 0), track(0, 1), done(0, 0), markCommitted(0, 0), done(0, 1)},
			want: map[int]int64{0: 1}, uncommitted: map[int]int64{0: 1},
		},
		{
			name: "an older commit does not lower the mark",
			ops:  []op{track(0, 0), track(0, 1), done(0, 0), done(0, 1), markCommitted(0, 1), markCommitted(0, 0)},
			want: map[int]int64{0: 1}, uncommitted: map[int]int64{},
		},
		{
			name: "redelivery after a rebalance restarts the partition",
			ops: []op{track(0, 0), track(0, 1), track(0, 2), track(0, 3), done(0, 0), done(0, 1), markCommitted(0, 1),
				trackRestart(0, 2), track(0, 3), // kafka-go resumes from the committed offset
				doneIgnored(0, 1), // stale: before the restart point
				done(0, 3),        // old or new worker; same message
				doneIgnored(0, 3),
			},
			want: map[int]int64{}, uncommitted: map[int]int64{}, inFlight: 1,
		},
		{
			name: "restarted partition commits again once caught up",
			ops: []op{track(0, 0), track(0, 1), done(0, 0),
				trackRestart(0, 1), done(0, 1)},
			want: map[int]int64{0: 1}, uncommitted: map[int]int64{0: 1},
		},
		{
			name: "restart from further back forgets finished work",
			ops: []op{track(0, 5), track(0, 6), done(0, 5), done(0, 6),
				trackRestart(0, 3), doneIgnored(0, 6)},
			want: map[int]int64{}, uncommitted: map[int]int64{}, inFlight: 1,
		},
		{
			name: "revoked partition forgets everything",
			ops:  []op{track(0, 0), track(1, 0), done(0, 0), revoke(0), doneIgnored(0, 0), done(1, 0)},
			want: map[int]int64{1: 0}, uncommitted: map[int]int64{1: 0},
		},
		{
			name: "revoked then re-assigned from a later offset",
			ops:  []op{track(0, 0), track(0, 1), revoke(0), track(0, 7), doneIgnored(0, 1), done(0, 7)},
			want: map[int]int64{0: 7}, uncommitted: map[int]int64{0: 7},
		},
		{
			name: "reset forgets every partition",
			ops:  []op{track(0, 0), track(1, 0), done(0, 0), reset(), doneIgnored(1, 0), markCommitted(0, 0)},
			want: map[int]int64{}, uncommitted: map[int]int64{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w Watermark // the zero value is usable
			for _, o := range tt.ops {
				run(t, &w, o)
			}
			if got := w.committable(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Committable = %v, want %v", got, tt.want)
			}
			if got := w.Uncommitted(); !reflect.DeepEqual(got, tt.uncommitted) {
				t.Errorf("Uncommitted = %v, want %v", got, tt.uncommitted)
			}
			for p := range 4 {
				off, ok := w.committableFor(p)
				want, wantOK := tt.want[p]
				if ok != wantOK || off != want {
					t.Errorf("committableFor(%d) = %d, %t; want %d, %t", p, off, ok, want, wantOK)
				}
			}
			if got := w.InFlight(); got != tt.inFlight {
				t.Errorf("InFlight = %d, want %d", got, tt.inFlight)
			}
		})
	}
}

// TestWatermarkRandomized checks, over random offsets and completion orders,
// that the watermark never reaches an unfinished offset, always equals the
// end of the finished prefix, and ends at the last offset.
func TestWatermarkRandomized(t *testing.T) {
	for seed := range uint64(300) {
		rng := rand.New(rand.NewPCG(seed, 0x5eed))
		w := NewWatermark()
		partitions := 1 + rng.IntN(4)
		tracked := make(map[int][]int64) // ascending per partition
		finished := make(map[int]map[int64]bool)
		type item struct {
			p int
			o int64
		}
		var open []item
		next := make(map[int]int64)
		for p := range partitions {
			next[p] = rng.Int64N(1000)
			finished[p] = make(map[int64]bool)
		}
		steps := 50 + rng.IntN(400)
		for range steps {
			if len(open) == 0 || rng.IntN(3) > 0 && len(open) < 64 {
				p := rng.IntN(partitions)
				o := next[p]
				next[p] += 1 + rng.Int64N(3) // gaps happen
				if w.Track(p, o) {
					t.Fatalf("seed %d: Track(%d, %d) reported a restart", seed, p, o)
				}
				tracked[p] = append(tracked[p], o)
				open = append(open, item{p, o})
			} else {
				i := rng.IntN(len(open))
				it := open[i]
				open[i] = open[len(open)-1]
				open = open[:len(open)-1]
				if !w.Done(it.p, it.o) {
					t.Fatalf("seed %d: Done(%d, %d) rejected", seed, it.p, it.o)
				}
				finished[it.p][it.o] = true
			}
			checkWatermark(t, seed, w, tracked, finished)
		}
		for _, it := range open {
			w.Done(it.p, it.o)
			finished[it.p][it.o] = true
		}
		checkWatermark(t, seed, w, tracked, finished)
		final := w.committable()
		for p, offs := range tracked {
			if final[p] != offs[len(offs)-1] {
				t.Fatalf("seed %d: final watermark of partition %d = %d, want %d", seed, p, final[p], offs[len(offs)-1])
			}
		}
		if w.InFlight() != 0 {
			t.Fatalf("seed %d: InFlight = %d after all done", seed, w.InFlight())
		}
	}
}

func checkWatermark(t *testing.T, seed uint64, w *Watermark, tracked map[int][]int64, finished map[int]map[int64]bool) {
	t.Helper()
	got := w.committable()
	for p, offs := range tracked {
		// The expected watermark is the last offset of the finished prefix.
		var want int64
		has := false
		for _, o := range offs {
			if !finished[p][o] {
				break
			}
			want, has = o, true
		}
		mark, ok := got[p]
		if ok != has || mark != want {
			t.Fatalf("seed %d: partition %d watermark = %d (%t), want %d (%t)", seed, p, mark, ok, want, has)
		}
		for _, o := range offs {
			if ok && o <= mark && !finished[p][o] {
				t.Fatalf("seed %d: watermark %d of partition %d passes unfinished offset %d", seed, mark, p, o)
			}
		}
	}
}

// TestWatermarkConcurrent runs workers finishing offsets concurrently with a
// fetcher tracking them and a committer reading the watermark; run with
// -race. Each committed watermark must only cover finished offsets.
func TestWatermarkConcurrent(t *testing.T) {
	const partitions, perPartition, workers = 3, 3000, 8
	w := NewWatermark()
	var finished sync.Map // item -> true
	type item struct {
		p int
		o int64
	}
	work := make(chan item, 128)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for it := range work {
				finished.Store(it, true)
				if !w.Done(it.p, it.o) {
					t.Errorf("Done(%d, %d) rejected", it.p, it.o)
				}
			}
		})
	}
	stop := make(chan struct{})
	committerDone := make(chan struct{})
	go func() {
		defer close(committerDone)
		last := make(map[int]int64)
		for {
			select {
			case <-stop:
				return
			default:
			}
			offs := w.Uncommitted()
			for p, o := range offs {
				for x := last[p]; x <= o; x++ { // offsets are contiguous here
					if _, ok := finished.Load(item{p, x}); !ok {
						t.Errorf("watermark %d of partition %d passes unfinished %d", o, p, x)
						return
					}
				}
				last[p] = o + 1
				w.MarkCommitted(p, o)
			}
		}
	}()
	for i := range perPartition {
		for p := range partitions {
			w.Track(p, int64(i))
			work <- item{p, int64(i)}
		}
	}
	close(work)
	wg.Wait()
	close(stop)
	<-committerDone
	want := map[int]int64{0: perPartition - 1, 1: perPartition - 1, 2: perPartition - 1}
	if got := w.committable(); !maps.Equal(got, want) {
		t.Errorf("final Committable = %v, want %v", got, want)
	}
	if w.InFlight() != 0 {
		t.Errorf("InFlight = %d", w.InFlight())
	}
}

// TestWatermarkMemoryIsBounded checks that finished entries are released:
// a long in-order stream with a small window keeps a small backing array.
func TestWatermarkMemoryIsBounded(t *testing.T) {
	w := NewWatermark()
	const window = 10
	for i := range int64(100_000) {
		w.Track(0, i)
		if i >= window {
			w.Done(0, i-window)
		}
	}
	// Hold one early offset open in a second partition for the worst case.
	w.Track(1, 0)
	for i := range int64(100_000) {
		w.Track(1, i+1)
		w.Done(1, i+1)
	}
	w.mu.Lock()
	c0, c1 := cap(w.parts[0].marks), cap(w.parts[1].marks)
	w.mu.Unlock()
	if c0 > 4*compactAt {
		t.Errorf("partition 0 keeps a backing array of %d entries for a window of %d", c0, window)
	}
	// Partition 1 cannot advance past offset 0, so it must keep every entry.
	if c1 < 100_000 {
		t.Errorf("partition 1 dropped entries it still needs (cap %d)", c1)
	}
	if off, ok := w.committableFor(1); ok {
		t.Errorf("partition 1 watermark %d passed the open offset 0", off)
	}
	w.Done(1, 0)
	if off, _ := w.committableFor(1); off != 100_000 {
		t.Errorf("partition 1 watermark = %d, want 100000", off)
	}
}
