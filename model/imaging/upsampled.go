package imaging

import (
	"bytes"
	"fmt"
)

// UpsampledMask is a mask at the model's resolution shown at a photo's full
// size, Width x Height, by nearest-neighbour sampling (as ResizeMask), without
// the full-size mask ever being built: EncodePNG upsamples row by row and
// Stats counts each model pixel by the number of photo pixels it covers.
type UpsampledMask struct {
	Base          *Mask
	Width, Height int
}

// valid reports whether u can be shown.
func (u UpsampledMask) valid() error {
	if err := u.Base.valid(); err != nil {
		return err
	}
	if u.Width <= 0 || u.Height <= 0 || u.Width > 1<<30 || u.Height > 1<<30 {
		return fmt.Errorf("upsampled size %dx%d out of range", u.Width, u.Height)
	}
	return nil
}

// Full returns the full-size mask (ResizeMask of Base), or nil when u is
// not valid.
func (u UpsampledMask) Full() *Mask {
	if u.valid() != nil {
		return nil
	}
	return ResizeMask(u.Base, u.Width, u.Height)
}

// nearestIndex returns, for each of n output positions, the source index
// of nearest-neighbour sampling from src positions at pixel centres.
func nearestIndex(n, src int) []int {
	xs := make([]int, n)
	for x := range xs {
		xs[x] = int((2*int64(x) + 1) * int64(src) / (2 * int64(n)))
	}
	return xs
}

// Stats returns ComputeStats(u.Full(), classes) without building the full
// mask: every Base pixel counts for the photo pixels that sample it.
func (u UpsampledMask) Stats(classes int) Stats {
	st := Stats{Fractions: make([]float64, max(classes, 0))}
	if u.valid() != nil {
		return st
	}
	if u.Base.Width == u.Width && u.Base.Height == u.Height {
		u.fullSizeStats(&st)
	} else {
		u.sampledStats(&st)
	}
	return st
}

// fewClasses is the most classes fullSizeStats counts a class at a time.
const fewClasses = 8

// fullSizeStats is Stats of a Base at the full size (the pipeline's masks,
// interpolated from the logits): each row is counted a class at a time
// (up to fewClasses) and searched for its first and last pet pixel with
// the bytes package's vectorised loops.
func (u UpsampledMask) fullSizeStats(st *Stats) {
	m := u.Base
	counts := make([]int64, min(len(st.Fractions), 256))
	bb := BBox{X0: m.Width, Y0: m.Height}
	found := false
	for y := range m.Height {
		row := m.Pix[y*m.Width:][:m.Width]
		if len(counts) <= fewClasses {
			for c := range counts {
				counts[c] += int64(bytes.Count(row, []byte{uint8(c)}))
			}
		} else {
			for _, id := range row {
				if int(id) < len(counts) {
					counts[id]++
				}
			}
		}
		first := bytes.IndexByte(row, ClassPet)
		if first < 0 {
			continue
		}
		found = true
		bb.X0, bb.X1 = min(bb.X0, first), max(bb.X1, bytes.LastIndexByte(row, ClassPet)+1)
		bb.Y0, bb.Y1 = min(bb.Y0, y), y+1
	}
	u.finishStats(st, counts, bb, found)
}

// sampledStats is Stats of a Base smaller or larger than the full size:
// each Base pixel counts for the photo pixels that sample it.
func (u UpsampledMask) sampledStats(st *Stats) {
	m := u.Base
	// cols[sx] photo columns sample Base column sx, the first at colFirst[sx].
	cols, colFirst := coverage(u.Width, m.Width)
	rows, rowFirst := coverage(u.Height, m.Height)
	var counts [256]int64
	bb := BBox{X0: u.Width, Y0: u.Height}
	found := false
	for sy := range m.Height {
		if rows[sy] == 0 {
			continue
		}
		first, last := -1, -1
		for sx, id := range m.Pix[sy*m.Width:][:m.Width] {
			if cols[sx] == 0 {
				continue
			}
			counts[id] += int64(cols[sx] * rows[sy])
			if id == ClassPet {
				if first < 0 {
					first = sx
				}
				last = sx
			}
		}
		if first >= 0 {
			found = true
			bb.X0, bb.X1 = min(bb.X0, colFirst[first]), max(bb.X1, colFirst[last]+cols[last])
			bb.Y0, bb.Y1 = min(bb.Y0, rowFirst[sy]), max(bb.Y1, rowFirst[sy]+rows[sy])
		}
	}
	u.finishStats(st, counts[:min(len(st.Fractions), len(counts))], bb, found)
}

// finishStats fills st from the pixel counts of its classes and the pet box.
func (u UpsampledMask) finishStats(st *Stats, counts []int64, bb BBox, found bool) {
	total := float64(u.Width) * float64(u.Height)
	for c, n := range counts {
		st.Fractions[c] = float64(n) / total
	}
	if found {
		st.PetBBox = &bb
	}
}

// coverage returns, for each of src positions, how many of n output
// positions sample it (nearest neighbour) and the first of them.
func coverage(n, src int) (count, first []int) {
	count, first = make([]int, src), make([]int, src)
	for x, s := range nearestIndex(n, src) {
		if count[s] == 0 {
			first[s] = x
		}
		count[s]++
	}
	return count, first
}
