package training

import (
	"errors"
	"flag"
	"image"
	"image/color"
	"image/gif"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/vitseg/vitseg/model/imaging"
)

var reportOut = flag.String("report.out", "", "also write TestWriteReport's report into this directory, to look at")

const reportTestSize = 128

// uniformMask returns a Size*Size mask of class id.
func uniformMask(id uint8) []uint8 {
	m := make([]uint8, reportTestSize*reportTestSize)
	for i := range m {
		m[i] = id
	}
	return m
}

// diskMask returns a mask with a pet disk of radius r at the centre, a 3-pixel border ring around it, and
// background elsewhere.
func diskMask(r float64) []uint8 {
	m := make([]uint8, reportTestSize*reportTestSize)
	c := float64(reportTestSize-1) / 2
	for y := range reportTestSize {
		for x := range reportTestSize {
			d := math.Hypot(float64(x)-c, float64(y)-c)
			switch {
			case d <= r:
				m[y*reportTestSize+x] = imaging.ClassPet
			case d <= r+3:
				m[y*reportTestSize+x] = imaging.ClassBorder
			default:
				m[y*reportTestSize+x] = imaging.ClassBackground
			}
		}
	}
	return m
}

// stripeMask returns a mask whose column x has class (x+shift)%3.
func stripeMask(shift int) []uint8 {
	m := make([]uint8, reportTestSize*reportTestSize)
	for y := range reportTestSize {
		for x := range reportTestSize {
			m[y*reportTestSize+x] = uint8((x + shift) % imaging.NumClasses)
		}
	}
	return m
}

// chwImage returns a CHW image whose pixel (x, y) has the channels rgb(x, y).
func chwImage(rgb func(x, y int) [3]float32) []float32 {
	plane := reportTestSize * reportTestSize
	img := make([]float32, 3*plane)
	for y := range reportTestSize {
		for x := range reportTestSize {
			v := rgb(x, y)
			for c := range 3 {
				img[c*plane+y*reportTestSize+x] = v[c]
			}
		}
	}
	return img
}

// allPetFrames are the uniform predicted classes of example 0 ("all_pet") after each of the 4 epochs.
var allPetFrames = []uint8{imaging.ClassBackground, imaging.ClassBorder, imaging.ClassBackground, imaging.ClassPet}

// testReportData is a report of 3 examples over 4 epochs: an all-pet example with a uniform image, a disk whose
// prediction grows towards the truth, and stripes whose prediction is shifted until the last epoch. Its last
// example's image has out-of-range and NaN values in its first row.
func testReportData() ReportData {
	d := ReportData{
		Size:  reportTestSize,
		Names: []string{"all_pet", "disk", "stripes_with_a_rather_long_name_that_does_not_fit_in_its_cell_at_all"},
		Images: [][]float32{
			chwImage(func(int, int) [3]float32 { return [3]float32{0.2, 0.4, 0.6} }),
			chwImage(func(x, y int) [3]float32 {
				return [3]float32{float32(x) / reportTestSize, float32(y) / reportTestSize, 0.5}
			}),
			chwImage(func(x, y int) [3]float32 {
				if y == 0 {
					return [3]float32{-0.5, 1.5, float32(math.NaN())}
				}
				return [3]float32{0.8, 0.8, float32(x%2) * 0.8}
			}),
		},
		Truth: [][]uint8{uniformMask(imaging.ClassPet), diskMask(40), stripeMask(0)},
	}
	for e := range 4 {
		d.Frames = append(d.Frames, [][]uint8{uniformMask(allPetFrames[e]), diskMask(float64(10 * (e + 1))), stripeMask(3 - e)})
		d.History = append(d.History, EpochStats{
			Epoch:            e + 1,
			LearningRate:     4e-4,
			TrainLoss:        1.1 / float64(e+1),
			ValPixelAccuracy: 0.6 + 0.08*float64(e),
			ValMeanIoU:       0.4 + 0.1*float64(e),
		})
	}
	return d
}

func decodePNGFile(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	return img
}

func decodeGIFFile(t *testing.T, path string) *gif.GIF {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	g, err := gif.DecodeAll(f)
	if err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	return g
}

func rgbaAt(img image.Image, x, y int) color.RGBA {
	return color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
}

// checkBlock asserts that the size x size source pixels of a cell at `at`, scaled by scale, have the colours want(x, y).
func checkBlock(t *testing.T, img image.Image, what string, at image.Point, size, scale int, want func(x, y int) color.RGBA) {
	t.Helper()
	for y := range size * scale {
		for x := range size * scale {
			w := want(x/scale, y/scale)
			if got := rgbaAt(img, at.X+x, at.Y+y); got != w {
				t.Fatalf("%s: pixel (%d, %d) of the cell is %v, want %v", what, x, y, got, w)
			}
		}
	}
}

func classColorOf(mask []uint8) func(x, y int) color.RGBA {
	return func(x, y int) color.RGBA { return imaging.ClassColor(mask[y*reportTestSize+x]) }
}

// hasColor reports whether some pixel of r in img has colour c.
func hasColor(img image.Image, r image.Rectangle, c color.RGBA) bool {
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if rgbaAt(img, x, y) == c {
				return true
			}
		}
	}
	return false
}

func TestWriteReport(t *testing.T) {
	dir := t.TempDir()
	d := testReportData()
	if err := WriteReport(dir, d); err != nil {
		t.Fatal(err)
	}
	if *reportOut != "" {
		if err := WriteReport(*reportOut, d); err != nil {
			t.Fatal(err)
		}
	}

	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
		if info, err := e.Info(); err != nil || info.Mode().Perm() != 0o644 {
			t.Errorf("%s: mode %v (%v), want 0644", e.Name(), info.Mode(), err)
		}
	}
	want := []string{ReportAccuracyFile, ReportLossFile, ReportMasksFile, ReportPredictionsFile}
	if !slices.Equal(names, want) {
		t.Fatalf("report directory holds %q, want %q (no temporary files left)", names, want)
	}

	t.Run("predictions", func(t *testing.T) {
		img := decodePNGFile(t, filepath.Join(dir, ReportPredictionsFile))
		const cell, pad, line = 2 * reportTestSize, 8, 18
		wantW := 3*cell + 4*pad
		wantH := pad + line + 3*(line+cell+pad) + line + pad
		if b := img.Bounds(); b != image.Rect(0, 0, wantW, wantH) {
			t.Fatalf("predictions.png is %v, want %dx%d", b, wantW, wantH)
		}
		cellAt := func(row, col int) image.Point {
			return image.Pt(pad+col*(cell+pad), pad+line+row*(line+cell+pad)+line)
		}
		pet := imaging.ClassColor(imaging.ClassPet)
		// Example 0: a uniform image, an all-pet truth, an all-pet last prediction.
		checkBlock(t, img, "all_pet input", cellAt(0, 0), reportTestSize, 2,
			func(int, int) color.RGBA { return color.RGBA{R: 51, G: 102, B: 153, A: 255} })
		checkBlock(t, img, "all_pet truth", cellAt(0, 1), reportTestSize, 2, func(int, int) color.RGBA { return pet })
		checkBlock(t, img, "all_pet prediction", cellAt(0, 2), reportTestSize, 2, func(int, int) color.RGBA { return pet })
		// Example 1: a gradient (x in red, y in green) and disks.
		checkBlock(t, img, "disk input", cellAt(1, 0), reportTestSize, 2, func(x, y int) color.RGBA {
			return color.RGBA{R: uint8(math.Round(float64(x) / reportTestSize * 255)),
				G: uint8(math.Round(float64(y) / reportTestSize * 255)), B: 128, A: 255}
		})
		checkBlock(t, img, "disk truth", cellAt(1, 1), reportTestSize, 2, classColorOf(d.Truth[1]))
		checkBlock(t, img, "disk prediction", cellAt(1, 2), reportTestSize, 2, classColorOf(d.Frames[3][1]))
		// Example 2: clamped and NaN input values, stripes (the prediction of the last epoch).
		checkBlock(t, img, "stripes input", cellAt(2, 0), reportTestSize, 2, func(x, y int) color.RGBA {
			if y == 0 {
				return color.RGBA{R: 0, G: 255, B: 0, A: 255}
			}
			return color.RGBA{R: 204, G: 204, B: uint8(x%2) * 204, A: 255}
		})
		checkBlock(t, img, "stripes truth", cellAt(2, 1), reportTestSize, 2, classColorOf(d.Truth[2]))
		checkBlock(t, img, "stripes prediction", cellAt(2, 2), reportTestSize, 2, classColorOf(d.Frames[3][2]))

		// Header and name lines hold dark text on the light background; the text does not reach into the cells.
		text := color.RGBA{R: 20, G: 20, B: 20, A: 255}
		for col := range 3 {
			header := image.Rect(pad+col*(cell+pad), pad, pad+col*(cell+pad)+cell, pad+line)
			if !hasColor(img, header, text) {
				t.Errorf("no header text above column %d", col)
			}
		}
		for row := range 3 {
			nameLine := image.Rect(pad, cellAt(row, 0).Y-line, wantW-pad, cellAt(row, 0).Y)
			if !hasColor(img, nameLine, text) {
				t.Errorf("no name above row %d", row)
			}
		}
		// The long name is cut short: no text in the right margin.
		if hasColor(img, image.Rect(wantW-pad, 0, wantW, wantH), text) {
			t.Error("text drawn into the right margin")
		}
		// The legend shows a swatch of each class colour.
		legend := image.Rect(0, wantH-pad-line, wantW, wantH-pad)
		for id := range uint8(imaging.NumClasses) {
			if !hasColor(img, legend, imaging.ClassColor(id)) {
				t.Errorf("legend lacks the colour of class %d", id)
			}
		}
	})

	t.Run("curves", func(t *testing.T) {
		for _, name := range []string{ReportLossFile, ReportAccuracyFile} {
			img := decodePNGFile(t, filepath.Join(dir, name))
			if b := img.Bounds(); b != image.Rect(0, 0, 720, 480) {
				t.Errorf("%s is %v, want 720x480", name, b)
			}
			// The series colours are drawn (the first series in both, the second in the accuracy plot).
			if !hasColor(img, img.Bounds(), color.RGBA{R: 31, G: 119, B: 180, A: 255}) {
				t.Errorf("%s has no line of the first series", name)
			}
			if second := hasColor(img, img.Bounds(), color.RGBA{R: 214, G: 39, B: 40, A: 255}); second != (name == ReportAccuracyFile) {
				t.Errorf("%s: second series drawn = %v", name, second)
			}
		}
	})

	t.Run("masks.gif", func(t *testing.T) {
		g := decodeGIFFile(t, filepath.Join(dir, ReportMasksFile))
		const pad, line = 8, 18
		wantW, wantH := 3*reportTestSize+4*pad, pad+3*line+reportTestSize+pad
		if g.Config.Width != wantW || g.Config.Height != wantH {
			t.Errorf("GIF is %dx%d, want %dx%d", g.Config.Width, g.Config.Height, wantW, wantH)
		}
		if len(g.Image) != 4 {
			t.Fatalf("GIF has %d frames, want 4", len(g.Image))
		}
		if want := []int{40, 40, 40, 250}; !slices.Equal(g.Delay, want) {
			t.Errorf("delays %v, want %v", g.Delay, want)
		}
		if g.LoopCount != 0 {
			t.Errorf("LoopCount %d, want 0 (forever)", g.LoopCount)
		}
		cellAt := func(i int) image.Point { return image.Pt(pad+i*(reportTestSize+pad), pad+3*line) }
		header := image.Rect(0, 0, wantW, pad+2*line)
		for e, frame := range g.Image {
			if frame.Bounds() != image.Rect(0, 0, wantW, wantH) {
				t.Fatalf("frame %d is %v", e, frame.Bounds())
			}
			for i := range 3 {
				checkBlock(t, frame, "GIF frame mask", cellAt(i), reportTestSize, 1, classColorOf(d.Frames[e][i]))
			}
			if got := rgbaAt(frame, cellAt(0).X+5, cellAt(0).Y+5); got != imaging.ClassColor(allPetFrames[e]) {
				t.Errorf("frame %d: all_pet mask is %v, want class %d", e, got, allPetFrames[e])
			}
			if !hasColor(frame, header, color.RGBA{R: 250, G: 250, B: 250, A: 255}) {
				t.Errorf("frame %d has no header text", e)
			}
			if e > 0 && slices.Equal(pixelsOf(frame, header), pixelsOf(g.Image[e-1], header)) {
				t.Errorf("frames %d and %d have the same header; the epoch is not drawn", e-1, e)
			}
		}
	})

	// Writing again over an existing report replaces it.
	if err := WriteReport(dir, d); err != nil {
		t.Fatalf("rewriting the report: %v", err)
	}
}

// pixelsOf returns the palette indices of r in img.
func pixelsOf(img *image.Paletted, r image.Rectangle) []uint8 {
	var out []uint8
	for y := r.Min.Y; y < r.Max.Y; y++ {
		out = append(out, img.Pix[y*img.Stride+r.Min.X:y*img.Stride+r.Max.X]...)
	}
	return out
}

// TestWriteReportResumedRun: a resumed run of many epochs has frames for its last epochs only, and a diverged
// epoch's loss is NaN.
func TestWriteReportResumedRun(t *testing.T) {
	d := testReportData()
	d.Frames = d.Frames[1:]
	d.History = nil
	for e := range 40 {
		d.History = append(d.History, EpochStats{Epoch: e + 1, TrainLoss: 1 / float64(e+1),
			ValPixelAccuracy: 0.9 - 0.3/float64(e+1), ValMeanIoU: 0.8 - 0.4/float64(e+1)})
	}
	d.History[4].TrainLoss = math.NaN()
	dir := t.TempDir()
	if *reportOut != "" {
		dir = filepath.Join(*reportOut, "resumed")
	}
	if err := WriteReport(dir, d); err != nil {
		t.Fatal(err)
	}
	g := decodeGIFFile(t, filepath.Join(dir, ReportMasksFile))
	if len(g.Image) != 3 || !slices.Equal(g.Delay, []int{40, 40, 250}) {
		t.Fatalf("GIF has %d frames, delays %v; want 3 frames, delays [40 40 250]", len(g.Image), g.Delay)
	}
	for _, name := range []string{ReportLossFile, ReportAccuracyFile} {
		if img := decodePNGFile(t, filepath.Join(dir, name)); !hasColor(img, img.Bounds(), seriesColor(0).(color.RGBA)) {
			t.Errorf("%s has no curve", name)
		}
	}
}

func TestEpochTicks(t *testing.T) {
	labels := func(lo, hi float64) []string {
		var out []string
		for _, tick := range (epochTicks{}).Ticks(lo, hi) {
			if tick.Label != "" {
				out = append(out, tick.Label)
			}
		}
		return out
	}
	// Few epochs: every epoch is labelled.
	for _, tt := range []struct {
		lo, hi float64
		want   []string
	}{
		{0.75, 4.25, []string{"1", "2", "3", "4"}},
		{0.75, 1.25, []string{"1"}},
		{0.5, 12.5, []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12"}},
	} {
		if got := labels(tt.lo, tt.hi); !slices.Equal(got, tt.want) {
			t.Errorf("Ticks(%g, %g) labels %q, want %q", tt.lo, tt.hi, got, tt.want)
		}
	}
	// Many epochs: a few labels, all whole epochs within the range.
	for _, r := range [][2]float64{{0.5, 13.5}, {0.6, 40.4}, {-2, 200}} {
		got := labels(r[0], r[1])
		if len(got) < 2 || len(got) > 12 {
			t.Errorf("Ticks(%g, %g) labels %q, want 2..12 labels", r[0], r[1], got)
		}
		for _, l := range got {
			v, err := strconv.Atoi(l)
			if err != nil || float64(v) < r[0] || float64(v) > r[1] {
				t.Errorf("Ticks(%g, %g) label %q is not a whole epoch in range", r[0], r[1], l)
			}
		}
	}
}

func TestWriteReportInvalid(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*ReportData)
	}{
		{"zero size", func(d *ReportData) { d.Size = 0 }},
		{"size too large", func(d *ReportData) { d.Size = imaging.MaxTensorSize + 1 }},
		{"size differs from the data", func(d *ReportData) { d.Size = reportTestSize / 2 }},
		{"no examples", func(d *ReportData) { d.Names, d.Images, d.Truth = nil, nil, nil }},
		{"fewer images than names", func(d *ReportData) { d.Images = d.Images[:2] }},
		{"fewer truths than names", func(d *ReportData) { d.Truth = d.Truth[1:] }},
		{"short image", func(d *ReportData) { d.Images[1] = d.Images[1][:reportTestSize*reportTestSize] }},
		{"long truth", func(d *ReportData) { d.Truth[2] = append(d.Truth[2], 0) }},
		{"no frames", func(d *ReportData) { d.Frames = nil }},
		{"no history", func(d *ReportData) { d.History = nil }},
		{"more frames than epochs", func(d *ReportData) { d.History = d.History[:3] }},
		{"frame missing an example", func(d *ReportData) { d.Frames[2] = d.Frames[2][:2] }},
		{"short frame mask", func(d *ReportData) { d.Frames[1][0] = d.Frames[1][0][:10] }},
		{"epoch zero", func(d *ReportData) { d.History[0].Epoch = 0 }},
		{"epochs out of order", func(d *ReportData) { d.History[2].Epoch = 2 }},
		{"class id beyond the GIF palette", func(d *ReportData) { d.Frames[0][0] = uniformMask(255) }},
		{"GIF too wide", func(d *ReportData) {
			n, img, truth := 600, d.Images[0], d.Truth[0]
			d.Names = make([]string, n)
			d.Images = make([][]float32, n)
			d.Truth = make([][]uint8, n)
			for i := range n {
				d.Names[i], d.Images[i], d.Truth[i] = "example", img, truth
			}
			d.Frames = [][][]uint8{d.Truth}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := testReportData()
			tt.mutate(&d)
			dir := filepath.Join(t.TempDir(), "report")
			err := WriteReport(dir, d)
			if !errors.Is(err, ErrInvalidReport) {
				t.Fatalf("WriteReport: %v, want ErrInvalidReport", err)
			}
			t.Log(err)
			if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the report directory was created for invalid data (%v)", err)
			}
		})
	}
}

// TestWriteReportUnwritableDir: a directory that cannot be made is an I/O error, not ErrInvalidReport.
func TestWriteReportUnwritableDir(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	err := WriteReport(filepath.Join(file, "report"), testReportData())
	if err == nil || errors.Is(err, ErrInvalidReport) {
		t.Fatalf("WriteReport under a file: %v, want an I/O error", err)
	}
}
