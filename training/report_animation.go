package training

import (
	"fmt"
	"image"
	"image/color"
	"image/gif"

	"github.com/vitseg/vitseg/model/imaging"
)

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
