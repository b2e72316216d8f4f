package training

import (
	"image/color"
	"io"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	plotdraw "gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

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
