package consumer

import (
	"sort"
	"sync"
)

// Watermark tracks the messages of a consumer-group member that are being
// processed concurrently and tells which offsets may be committed: per
// partition, the highest offset whose tracked predecessors have all finished.
// Committing that offset (kafka-go commits offset+1, "the next to read")
// never skips a message still in flight, whatever order the work finishes in.
//
// Offsets are tracked per partition in fetch order. When a partition's
// offsets go backwards (Track receives an offset not above the last one),
// the partition was re-assigned and its messages are being delivered again
// from the group's committed offset, as kafka-go does after a rebalance: the
// watermark drops that partition's state and starts over from the new
// offset. Done for an offset below the restart point is then ignored; Done
// for an offset at or above it marks the re-delivered message finished,
// which is right because an offset names one message of the partition.
//
// Delivery is at least once: a committed offset only ever covers messages
// this member finished, so no message is lost, but messages may be
// processed twice. kafka-go's Reader does not report revoked partitions; a
// member that keeps finishing and committing a partition it lost can move
// the group's offset back, which causes re-delivery, never loss. Callers
// that learn of a revocation call Revoke (or Reset for all partitions).
//
// The zero value is ready to use. A Watermark is safe for concurrent use.
type Watermark struct {
	mu    sync.Mutex
	parts map[int]*partitionMarks
}

// partitionMarks is the state of one partition in the current epoch (since
// the partition was first tracked or last restarted).
type partitionMarks struct {
	floor int64  // first offset of the epoch; Done below it is stale
	last  int64  // highest offset tracked
	marks []mark // tracked offsets not yet below the watermark, ascending, from head
	head  int
	open  int // tracked offsets not done

	watermark    int64 // highest offset with every tracked predecessor done
	hasWatermark bool
	committed    int64 // highest offset reported to MarkCommitted
	hasCommitted bool
}

type mark struct {
	offset int64
	done   bool
}

// compactAt is the number of dead entries at the front of marks that
// triggers a copy.
const compactAt = 256

// NewWatermark returns an empty Watermark.
func NewWatermark() *Watermark { return &Watermark{} }

// Track records that the message at offset of partition was handed out for
// processing. Offsets of one partition must be tracked in the order they
// were fetched. It returns true when the offset is not above the partition's
// last tracked offset: the partition was restarted and its earlier state was
// dropped.
func (w *Watermark) Track(partition int, offset int64) (restarted bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.parts == nil {
		w.parts = make(map[int]*partitionMarks)
	}
	p := w.parts[partition]
	if p != nil && offset <= p.last {
		restarted = true
		p = nil
	}
	if p == nil {
		p = &partitionMarks{floor: offset}
		w.parts[partition] = p
	}
	p.last = offset
	p.marks = append(p.marks, mark{offset: offset})
	p.open++
	return restarted
}

// Done records that the message at offset of partition has finished. It
// returns false, changing nothing, when that offset is not tracked and
// unfinished: never tracked, already done, from before a restart, or from a
// revoked partition.
func (w *Watermark) Done(partition int, offset int64) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	p := w.parts[partition]
	if p == nil || offset < p.floor {
		return false
	}
	live := p.marks[p.head:]
	i := sort.Search(len(live), func(i int) bool { return live[i].offset >= offset })
	if i == len(live) || live[i].offset != offset || live[i].done {
		return false
	}
	live[i].done = true
	p.open--
	p.advance()
	return true
}

// advance moves the watermark over the finished offsets at the front.
func (p *partitionMarks) advance() {
	for p.head < len(p.marks) && p.marks[p.head].done {
		p.watermark, p.hasWatermark = p.marks[p.head].offset, true
		p.head++
	}
	switch {
	case p.head == len(p.marks):
		p.marks, p.head = p.marks[:0], 0
	case p.head >= compactAt && p.head*2 >= len(p.marks):
		n := copy(p.marks, p.marks[p.head:])
		p.marks, p.head = p.marks[:n], 0
	}
}

// committable returns, for each partition that has one, the highest offset
// whose tracked predecessors (in the current epoch) have all finished.
func (w *Watermark) committable() map[int]int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make(map[int]int64, len(w.parts))
	for id, p := range w.parts {
		if p.hasWatermark {
			out[id] = p.watermark
		}
	}
	return out
}

// committableFor returns the committable offset of one partition, and false
// when it has none yet.
func (w *Watermark) committableFor(partition int) (int64, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	p := w.parts[partition]
	if p == nil || !p.hasWatermark {
		return 0, false
	}
	return p.watermark, true
}

// Uncommitted returns the committable offsets that are above what
// MarkCommitted last recorded for their partition: what a commit should
// send now. It is empty when there is nothing new to commit.
func (w *Watermark) Uncommitted() map[int]int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make(map[int]int64)
	for id, p := range w.parts {
		if p.hasWatermark && (!p.hasCommitted || p.watermark > p.committed) {
			out[id] = p.watermark
		}
	}
	return out
}

// MarkCommitted records that offset of partition was committed, so that
// Uncommitted stops reporting it. Offsets below the partition's restart
// point, or lower than one already recorded, are ignored.
func (w *Watermark) MarkCommitted(partition int, offset int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	p := w.parts[partition]
	if p == nil || offset < p.floor {
		return
	}
	if !p.hasCommitted || offset > p.committed {
		p.committed, p.hasCommitted = offset, true
	}
}

// InFlight returns the number of tracked offsets not yet done, over all
// partitions.
func (w *Watermark) InFlight() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, p := range w.parts {
		n += p.open
	}
	return n
}

// revoke drops the state of the given partitions, as when a rebalance takes
// them away: later Done calls for them are ignored and they commit nothing
// until tracked again.
func (w *Watermark) revoke(partitions ...int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, id := range partitions {
		delete(w.parts, id)
	}
}

// reset drops the state of every partition (a new group generation).
func (w *Watermark) reset() {
	w.mu.Lock()
	defer w.mu.Unlock()
	clear(w.parts)
}
