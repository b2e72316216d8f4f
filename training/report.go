package training

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/gif"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	plotdraw "gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/vitseg/vitseg/internal/atomicfile"
	"github.com/vitseg/vitseg/model"
	"github.com/vitseg/vitseg/model/imaging"
)

// The files WriteReport writes into its directory.
const (
	// ReportPredictionsFile is the grid of input, ground truth and final prediction per example.
	ReportPredictionsFile = "predictions.png"
	// ReportLossFile is the training-loss curve.
	ReportLossFile = "loss.png"
	// ReportAccuracyFile is the validation pixel-accuracy and mean-IoU curves.
	ReportAccuracyFile = "accuracy.png"
	// ReportMasksFile is the animation of the predicted masks across epochs.
	ReportMasksFile = "masks.gif"
)

// ErrInvalidReport is returned (wrapped) by WriteReport when its ReportData is inconsistent.
var ErrInvalidReport = errors.New("invalid report data")

// ReportData is what a training run collects for its report.
type ReportData struct {
	Size   int         // model resolution (square images and masks of Size x Size)
	Names  []string    // the fixed validation examples shown
	Images [][]float32 // their pre-processed images, CHW float32 in 0..1, 3*Size*Size each
	Truth  [][]uint8   // their ground-truth masks, Size*Size class ids (imaging.ClassPet, ...)
	// Frames[e][i] is the predicted mask (Size*Size class ids) of example i after epoch e+1. When a run was
	// resumed, Frames may cover only its last epochs: Frames[e] then belongs to
	// History[len(History)-len(Frames)+e].
	Frames  [][][]uint8
	History []EpochStats // per-epoch statistics, Epoch increasing
}

// Rendering settings; sizes are in pixels.
const (
	reportPad        = 8              // margin and gap between cells
	reportTextHeight = 18             // one line of text (basicfont 7x13 and leading)
	reportGridScale  = 2              // predictions.png upscaling of each cell
	reportGridCols   = 3              // input, ground truth, prediction
	reportSwatch     = 12             // legend colour swatch side
	gifFrameDelay    = 40             // masks.gif delay per frame, 1/100 s
	gifLastDelay     = 250            // masks.gif delay of the last frame, 1/100 s
	gifLoopForever   = 0              // gif.GIF.LoopCount for an endless loop
	gifMaxSide       = math.MaxUint16 // GIF's limit on a side
	gifReserved      = 2              // palette entries besides classes: background, text
	curveDPI         = 96             // curve plots' resolution
	curveWidthPx     = 720            // curve plots' width
	curveHeightPx    = 480            // curve plots' height
	curveWidth       = vg.Length(curveWidthPx) * vg.Inch / curveDPI
	curveHeight      = vg.Length(curveHeightPx) * vg.Inch / curveDPI
)

// WriteReport writes the visual report of a training run into dir (created if needed): ReportPredictionsFile (one
// row per example: input, ground truth, and the last predicted mask, each scaled up 2x), ReportLossFile and
// ReportAccuracyFile (curves per epoch), and ReportMasksFile (an endlessly looping GIF of the predicted masks after
// each epoch). d is validated first, and nothing is written when it is inconsistent (ErrInvalidReport). Each file is
// written to a temporary file and renamed into place, so readers never see a partial file.
func WriteReport(dir string, d ReportData) error {
	if err := d.validate(); err != nil {
		return fmt.Errorf("training: report: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("training: report: %w", err)
	}
	grid := d.predictionGrid()
	if err := writeFileAtomic(dir, ReportPredictionsFile, func(w io.Writer) error { return png.Encode(w, grid) }); err != nil {
		return err
	}
	if err := writeCurve(dir, ReportLossFile, lossPlot(d.History)); err != nil {
		return err
	}
	if err := writeCurve(dir, ReportAccuracyFile, accuracyPlot(d.History)); err != nil {
		return err
	}
	anim := d.maskAnimation()
	if err := writeFileAtomic(dir, ReportMasksFile, func(w io.Writer) error { return gif.EncodeAll(w, anim) }); err != nil {
		return err
	}
	return nil
}

// validate checks that d's lengths agree, so that rendering cannot fail or index out of range.
func (d *ReportData) validate() error {
	if d.Size <= 0 || d.Size > imaging.MaxTensorSize {
		return fmt.Errorf("%w: Size %d is not in 1..%d", ErrInvalidReport, d.Size, imaging.MaxTensorSize)
	}
	n, plane := len(d.Names), d.Size*d.Size
	switch {
	case n == 0:
		return fmt.Errorf("%w: no examples (Names is empty)", ErrInvalidReport)
	case len(d.Images) != n:
		return fmt.Errorf("%w: %d Images for %d Names", ErrInvalidReport, len(d.Images), n)
	case len(d.Truth) != n:
		return fmt.Errorf("%w: %d Truth masks for %d Names", ErrInvalidReport, len(d.Truth), n)
	case len(d.History) == 0:
		return fmt.Errorf("%w: no epochs (History is empty)", ErrInvalidReport)
	case len(d.Frames) == 0:
		return fmt.Errorf("%w: no predicted masks (Frames is empty)", ErrInvalidReport)
	case len(d.Frames) > len(d.History):
		return fmt.Errorf("%w: %d Frames for %d epochs of History", ErrInvalidReport, len(d.Frames), len(d.History))
	}
	for i := range n {
		if len(d.Images[i]) != 3*plane {
			return fmt.Errorf("%w: Images[%d] (%q) has %d values, want 3*%d*%d = %d",
				ErrInvalidReport, i, d.Names[i], len(d.Images[i]), d.Size, d.Size, 3*plane)
		}
		if len(d.Truth[i]) != plane {
			return fmt.Errorf("%w: Truth[%d] (%q) has %d pixels, want %d*%d = %d",
				ErrInvalidReport, i, d.Names[i], len(d.Truth[i]), d.Size, d.Size, plane)
		}
	}
	var maxID uint8
	for e, frame := range d.Frames {
		if len(frame) != n {
			return fmt.Errorf("%w: Frames[%d] has %d masks for %d examples", ErrInvalidReport, e, len(frame), n)
		}
		for i, m := range frame {
			if len(m) != plane {
				return fmt.Errorf("%w: Frames[%d][%d] (%q) has %d pixels, want %d*%d = %d",
					ErrInvalidReport, e, i, d.Names[i], len(m), d.Size, d.Size, plane)
			}
			for _, id := range m {
				maxID = max(maxID, id)
			}
		}
	}
	if int(maxID)+1+gifReserved > 256 {
		return fmt.Errorf("%w: predicted class id %d leaves no room in a GIF palette", ErrInvalidReport, maxID)
	}
	for k, s := range d.History {
		if s.Epoch < 1 || (k > 0 && s.Epoch <= d.History[k-1].Epoch) {
			return fmt.Errorf("%w: History[%d].Epoch is %d, want epochs 1-based and increasing",
				ErrInvalidReport, k, s.Epoch)
		}
	}
	if w, h := d.animationSize(); w > gifMaxSide || h > gifMaxSide {
		return fmt.Errorf("%w: %d examples of %dx%d make a %dx%d GIF, larger than GIF allows",
			ErrInvalidReport, n, d.Size, d.Size, w, h)
	}
	return nil
}

// frameEpoch returns the epoch statistics of Frames[e].
func (d *ReportData) frameEpoch(e int) EpochStats {
	return d.History[len(d.History)-len(d.Frames)+e]
}

// gridLayout places predictions.png's cells: a header line of column titles, then per example a name line and a
// row of cells, then a legend line.
type gridLayout struct {
	cell, rows int
}

func (l gridLayout) size() (w, h int) {
	w = reportGridCols*l.cell + (reportGridCols+1)*reportPad
	h = reportPad + reportTextHeight + l.rows*(reportTextHeight+l.cell+reportPad) + reportTextHeight + reportPad
	return w, h
}

// rowTop is the top of row's name line.
func (l gridLayout) rowTop(row int) int {
	return reportPad + reportTextHeight + row*(reportTextHeight+l.cell+reportPad)
}

// cellAt is the top-left corner of the cell at (row, col).
func (l gridLayout) cellAt(row, col int) image.Point {
	return image.Pt(reportPad+col*(l.cell+reportPad), l.rowTop(row)+reportTextHeight)
}

// legendTop is the top of the legend line.
func (l gridLayout) legendTop() int { return l.rowTop(l.rows) }

func (d *ReportData) gridLayout() gridLayout {
	return gridLayout{cell: d.Size * reportGridScale, rows: len(d.Names)}
}

// predictionGrid renders predictions.png.
func (d *ReportData) predictionGrid() *image.RGBA {
	gridBackground := color.RGBA{R: 236, G: 236, B: 236, A: 255}
	gridText := color.RGBA{R: 20, G: 20, B: 20, A: 255}
	l := d.gridLayout()
	w, h := l.size()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Rect, image.NewUniform(gridBackground), image.Point{}, draw.Src)
	last := len(d.Frames) - 1
	titles := [reportGridCols]string{"input", "ground truth",
		"prediction, epoch " + strconv.Itoa(d.frameEpoch(last).Epoch)}
	for col, title := range titles {
		drawText(img, image.Pt(reportPad+col*(l.cell+reportPad), reportPad), l.cell, title, gridText)
	}
	plane := d.Size * d.Size
	for row, name := range d.Names {
		drawText(img, image.Pt(reportPad, l.rowTop(row)), w-2*reportPad, name, gridText)
		chw := d.Images[row]
		paintCell(img, l.cellAt(row, 0), d.Size, reportGridScale, func(p int) color.RGBA {
			return color.RGBA{R: unitToByte(chw[p]), G: unitToByte(chw[plane+p]), B: unitToByte(chw[2*plane+p]), A: 255}
		})
		truth, pred := d.Truth[row], d.Frames[last][row]
		paintCell(img, l.cellAt(row, 1), d.Size, reportGridScale, func(p int) color.RGBA { return imaging.ClassColor(truth[p]) })
		paintCell(img, l.cellAt(row, 2), d.Size, reportGridScale, func(p int) color.RGBA { return imaging.ClassColor(pred[p]) })
	}
	// Legend: a swatch and the name of each class.
	x, y := reportPad, l.legendTop()
	for id, name := range model.ClassNames() {
		sw := image.Rect(x, y+1, x+reportSwatch, y+1+reportSwatch)
		draw.Draw(img, sw, image.NewUniform(gridText), image.Point{}, draw.Src)
		draw.Draw(img, sw.Inset(1), image.NewUniform(imaging.ClassColor(uint8(id))), image.Point{}, draw.Src)
		x += reportSwatch + 4
		x += drawText(img, image.Pt(x, y), w-reportPad-x, name, gridText) + 2*reportPad
	}
	return img
}

// paintCell paints a size x size picture, upscaled by scale with nearest-neighbour sampling, at top-left at;
// colorAt returns the colour of source pixel p = y*size+x.
func paintCell(dst *image.RGBA, at image.Point, size, scale int, colorAt func(p int) color.RGBA) {
	for y := range size {
		for x := range size {
			c := colorAt(y*size + x)
			for dy := range scale {
				for dx := range scale {
					dst.SetRGBA(at.X+x*scale+dx, at.Y+y*scale+dy, c)
				}
			}
		}
	}
}

// unitToByte maps v in 0..1 to 0..255, clamping out-of-range values; NaN gives 0.
func unitToByte(v float32) uint8 {
	if !(v > 0) {
		return 0
	}
	if v >= 1 {
		return 255
	}
	return uint8(math.Round(float64(v) * 255))
}

// drawText draws s with basicfont's 7x13 face, its box's top-left at topLeft, cut short with "..." to fit maxWidth
// pixels. It returns the width drawn.
func drawText(dst draw.Image, topLeft image.Point, maxWidth int, s string, c color.Color) int {
	face := basicfont.Face7x13
	s = fitText(face, s, maxWidth)
	d := font.Drawer{Dst: dst, Src: image.NewUniform(c), Face: face,
		Dot: fixed.P(topLeft.X, topLeft.Y+(reportTextHeight-face.Height)/2+face.Ascent)}
	d.DrawString(s)
	return d.Dot.X.Round() - topLeft.X
}

// fitText returns s, or its longest prefix followed by "..." that fits maxWidth pixels ("" when nothing fits).
func fitText(face font.Face, s string, maxWidth int) string {
	fits := func(t string) bool { return font.MeasureString(face, t).Ceil() <= maxWidth }
	if fits(s) {
		return s
	}
	runes := []rune(s)
	for n := len(runes) - 1; n >= 0; n-- {
		if t := string(runes[:n]) + "..."; fits(t) {
			return t
		}
	}
	return ""
}

// animationSize is masks.gif's size: a header of two text lines, then per example a name line over its mask, side by
// side.
func (d *ReportData) animationSize() (w, h int) {
	n := len(d.Names)
	return n*d.Size + (n+1)*reportPad, reportPad + 3*reportTextHeight + d.Size + reportPad
}

// animationCell is the top-left corner of example i's mask in a masks.gif frame.
func (d *ReportData) animationCell(i int) image.Point {
	return image.Pt(reportPad+i*(d.Size+reportPad), reportPad+3*reportTextHeight)
}

// maskAnimation renders masks.gif: one frame per element of Frames.
func (d *ReportData) maskAnimation() *gif.GIF {
	var maxID uint8
	for _, frame := range d.Frames {
		for _, m := range frame {
			for _, id := range m {
				maxID = max(maxID, id)
			}
		}
	}
	gifBackground := color.RGBA{R: 48, G: 48, B: 48, A: 255}
	gifText := color.RGBA{R: 250, G: 250, B: 250, A: 255}
	classes := max(imaging.NumClasses, int(maxID)+1)
	palette := make(color.Palette, classes, classes+gifReserved)
	for id := range palette {
		palette[id] = imaging.ClassColor(uint8(id))
	}
	bgIndex := uint8(len(palette))
	palette = append(palette, gifBackground, gifText)

	w, h := d.animationSize()
	anim := &gif.GIF{
		Config:    image.Config{ColorModel: palette, Width: w, Height: h},
		LoopCount: gifLoopForever,
	}
	lastEpoch := d.History[len(d.History)-1].Epoch
	for e, frame := range d.Frames {
		img := image.NewPaletted(image.Rect(0, 0, w, h), palette)
		for i := range img.Pix {
			img.Pix[i] = bgIndex
		}
		stats := d.frameEpoch(e)
		drawText(img, image.Pt(reportPad, reportPad), w-2*reportPad,
			fmt.Sprintf("epoch %d/%d", stats.Epoch, lastEpoch), gifText)
		drawText(img, image.Pt(reportPad, reportPad+reportTextHeight), w-2*reportPad,
			fmt.Sprintf("val pixel acc %.3f  mIoU %.3f", stats.ValPixelAccuracy, stats.ValMeanIoU), gifText)
		for i, m := range frame {
			at := d.animationCell(i)
			drawText(img, image.Pt(at.X, at.Y-reportTextHeight), d.Size, d.Names[i], gifText)
			for y := range d.Size {
				copy(img.Pix[(at.Y+y)*img.Stride+at.X:][:d.Size], m[y*d.Size:][:d.Size])
			}
		}
		delay := gifFrameDelay
		if e == len(d.Frames)-1 {
			delay = gifLastDelay
		}
		anim.Image = append(anim.Image, img)
		anim.Delay = append(anim.Delay, delay)
		anim.Disposal = append(anim.Disposal, gif.DisposalNone)
	}
	return anim
}

// lossPlot plots the training loss per epoch.
func lossPlot(history []EpochStats) *plot.Plot {
	p := newEpochPlot("Training loss", "pixel cross-entropy", history)
	p.Legend.Top = true // the loss falls towards the bottom right
	if top := addCurve(p, "train loss", 0, history, func(s EpochStats) float64 { return s.TrainLoss }); top > 0 {
		p.Y.Min, p.Y.Max = 0, top*1.08
	}
	return p
}

// accuracyPlot plots the validation pixel accuracy and mean IoU per epoch.
func accuracyPlot(history []EpochStats) *plot.Plot {
	p := newEpochPlot("Validation accuracy", "fraction", history)
	p.Y.Min, p.Y.Max = 0, 1.02
	addCurve(p, "pixel accuracy", 0, history, func(s EpochStats) float64 { return s.ValPixelAccuracy })
	addCurve(p, "mean IoU", 1, history, func(s EpochStats) float64 { return s.ValMeanIoU })
	return p
}

// newEpochPlot returns a plot with a grid, whole-epoch ticks, and an x range of history's epochs padded so that the
// end points are not cut.
func newEpochPlot(title, yLabel string, history []EpochStats) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "epoch"
	p.Y.Label.Text = yLabel
	p.X.Tick.Marker = epochTicks{}
	first, last := float64(history[0].Epoch), float64(history[len(history)-1].Epoch)
	margin := max(0.25, (last-first)*0.03)
	p.X.Min, p.X.Max = first-margin, last+margin
	p.Add(plotter.NewGrid())
	return p
}

// addCurve adds the series value(history) as a line with points, in style number style, and returns the largest
// value plotted (0 if none). Non-finite values (a diverged epoch) are left out, so the rest of the curve still shows.
func addCurve(p *plot.Plot, name string, style int, history []EpochStats, value func(EpochStats) float64) float64 {
	xys := make(plotter.XYs, 0, len(history))
	top := 0.0
	for _, s := range history {
		if v := value(s); !math.IsNaN(v) && !math.IsInf(v, 0) {
			xys = append(xys, plotter.XY{X: float64(s.Epoch), Y: v})
			top = max(top, v)
		}
	}
	if len(xys) == 0 {
		return 0
	}
	line, points, err := plotter.NewLinePoints(xys)
	if err != nil { // unreachable: the points are finite
		return 0
	}
	line.Color = seriesColor(style)
	line.Width = vg.Points(1.5)
	points.Color = line.Color
	points.Shape = pointShape(style)
	p.Add(line, points)
	p.Legend.Add(name, line, points)
	return top
}

// seriesColor returns the colour of series number i.
func seriesColor(i int) color.Color {
	colors := []color.RGBA{
		{R: 31, G: 119, B: 180, A: 255},
		{R: 214, G: 39, B: 40, A: 255},
		{R: 44, G: 160, B: 44, A: 255},
	}
	return colors[i%len(colors)]
}

func pointShape(i int) plotdraw.GlyphDrawer {
	if i%2 == 0 {
		return plotdraw.CircleGlyph{}
	}
	return plotdraw.SquareGlyph{}
}

// epochTicks labels whole epochs: every one when there are few, else every 2nd, 5th, 10th, 20th, ... so that at most
// maxEpochLabels are labelled.
type epochTicks struct{}

const maxEpochLabels = 12

// Ticks implements plot.Ticker.
func (epochTicks) Ticks(lo, hi float64) []plot.Tick {
	first, last := math.Ceil(lo), math.Floor(hi)
	if !(last >= first) || math.IsInf(last-first, 0) { // empty, NaN or unbounded range
		return nil
	}
	step := 1.0
	for mag := 1.0; (last-first)/step+1 > maxEpochLabels; mag *= 10 {
		for _, m := range []float64{1, 2, 5} {
			if step = m * mag; (last-first)/step+1 <= maxEpochLabels {
				break
			}
		}
	}
	var ticks []plot.Tick
	for v := max(math.Ceil(first/step)*step, step); v <= last; v += step { // epochs are 1-based
		ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', -1, 64)})
	}
	return ticks
}

// writeCurve renders p to a PNG of curveWidthPx x curveHeightPx pixels in dir/name.
func writeCurve(dir, name string, p *plot.Plot) error {
	c := vgimg.NewWith(vgimg.UseWH(curveWidth, curveHeight), vgimg.UseDPI(curveDPI))
	margin := vg.Points(10)
	p.Draw(plotdraw.Crop(plotdraw.New(c), margin, -margin, margin, -margin))
	return writeFileAtomic(dir, name, func(w io.Writer) error {
		_, err := vgimg.PngCanvas{Canvas: c}.WriteTo(w)
		return err
	})
}

// writeFileAtomic writes dir/name through write, atomically (see package atomicfile).
func writeFileAtomic(dir, name string, write func(io.Writer) error) error {
	if err := atomicfile.Write(filepath.Join(dir, name), 0o644, write); err != nil {
		return fmt.Errorf("training: report: %w", err)
	}
	return nil
}
