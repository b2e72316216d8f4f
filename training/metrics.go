package training

import (
	"fmt"

	"github.com/vitseg/vitseg/model"
)

// Confusion counts pixels by ground-truth class (row) and predicted class (column).
type Confusion struct {
	Classes int
	Counts  []int64 // Classes x Classes, row-major
}

// NewConfusion returns an empty confusion matrix.
func NewConfusion(classes int) *Confusion {
	return &Confusion{Classes: classes, Counts: make([]int64, classes*classes)}
}

// Add accumulates one mask pair of equal length.
func (c *Confusion) Add(truth, pred []uint8) error {
	if len(truth) != len(pred) {
		return fmt.Errorf("confusion: %d truth pixels vs %d predicted", len(truth), len(pred))
	}
	for i, t := range truth {
		p := pred[i]
		if int(t) >= c.Classes || int(p) >= c.Classes {
			return fmt.Errorf("confusion: class id out of range at pixel %d (truth %d, pred %d)", i, t, p)
		}
		c.Counts[int(t)*c.Classes+int(p)]++
	}
	return nil
}

func (c *Confusion) at(truth, pred int) int64 { return c.Counts[truth*c.Classes+pred] }

// Metrics summarise a confusion matrix.
type Metrics struct {
	PixelAccuracy float64            `json:"pixel_accuracy"`
	ClassIoU      map[string]float64 `json:"class_iou"`
	MeanIoU       float64            `json:"mean_iou"`
	// ArticleIoU is the article's IoU: the Jaccard index computed as torchmetrics' multiclass JaccardIndex with
	// ignore_index=background: pixels whose ground truth is background are left out, and the IoU of pet and
	// border over the remaining pixels is averaged.
	ArticleIoU float64 `json:"article_iou"`
	// BorderIoU is the IoU of the trimap's border class (also in ClassIoU), the hardest one: the thin band around
	// the pet.
	BorderIoU float64 `json:"border_iou"`
	// BoundaryF is the boundary F-score (see BoundaryScore); set by a Scorer, 0 from a bare Confusion.
	BoundaryF float64 `json:"boundary_f"`
	Pixels    int64   `json:"pixels"`
	// ModelResolution, when set, holds the same metrics at the model's input resolution (masks and predictions
	// both at 128x128), beside these at the photos' own size.
	ModelResolution *Metrics `json:"model_resolution,omitempty"`
}

// Metrics computes pixel accuracy, per-class IoU, their mean, and the article's IoU.
func (c *Confusion) Metrics() Metrics {
	names := model.ClassNames()
	m := Metrics{ClassIoU: map[string]float64{}}
	var correct int64
	for k := range c.Classes {
		correct += c.at(k, k)
		for j := range c.Classes {
			m.Pixels += c.at(k, j)
		}
	}
	if m.Pixels > 0 {
		m.PixelAccuracy = float64(correct) / float64(m.Pixels)
	}
	iou := func(k int, ignoreTruth int) float64 {
		var tp, fp, fn int64
		tp = c.at(k, k)
		for j := range c.Classes {
			if j != k {
				fn += c.at(k, j)
				if j != ignoreTruth {
					fp += c.at(j, k)
				}
			}
		}
		if tp+fp+fn == 0 {
			return 0
		}
		return float64(tp) / float64(tp+fp+fn)
	}
	sum := 0.0
	for k := range c.Classes {
		v := iou(k, -1)
		m.ClassIoU[className(names, k)] = v
		sum += v
	}
	m.MeanIoU = sum / float64(c.Classes)
	if model.ClassBorder < c.Classes {
		m.BorderIoU = iou(model.ClassBorder, -1)
	}
	sum, n := 0.0, 0
	for k := range c.Classes {
		if k == model.ClassBackground {
			continue
		}
		sum += iou(k, model.ClassBackground)
		n++
	}
	if n > 0 {
		m.ArticleIoU = sum / float64(n)
	}
	return m
}

func className(names []string, k int) string {
	if k < len(names) {
		return names[k]
	}
	return fmt.Sprintf("class_%d", k)
}

// Map flattens the metrics for model metadata.
func (m Metrics) Map() map[string]float64 {
	out := map[string]float64{"pixel_accuracy": m.PixelAccuracy, "mean_iou": m.MeanIoU, "article_iou": m.ArticleIoU,
		"boundary_f": m.BoundaryF}
	for k, v := range m.ClassIoU {
		out["iou_"+k] = v
	}
	return out
}
