package training

import (
	"image"
	"image/color"
	"image/draw"
	"math"
	"strconv"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/vitseg/vitseg/model"
	"github.com/vitseg/vitseg/model/imaging"
)

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
