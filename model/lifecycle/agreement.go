package lifecycle

import (
	"fmt"
	"math"

	"github.com/vitseg/vitseg/model"
	"github.com/vitseg/vitseg/model/imaging"
)

// Agreement compares two masks of the same image.
type Agreement struct {
	// Pixel is the fraction of pixels given the same class.
	Pixel float64
	// MeanIoU is the mean, over the classes present in either mask, of the intersection over the union of
	// their pixels (1 when neither mask has any pixel).
	MeanIoU float64
	// PetAreaDiff is the absolute difference of the fractions of pixels classed as pet.
	PetAreaDiff float64
}

// Compare returns how mask b agrees with mask a (both of classes classes, the same size).
func Compare(a, b *imaging.Mask, classes int) (Agreement, error) {
	if a == nil || b == nil || a.Width != b.Width || a.Height != b.Height || len(a.Pix) != len(b.Pix) {
		return Agreement{}, fmt.Errorf("lifecycle: masks of different sizes (%s, %s)", size(a), size(b))
	}
	n := len(a.Pix)
	if n == 0 {
		return Agreement{Pixel: 1, MeanIoU: 1}, nil
	}
	inter := make([]int, classes)
	countA := make([]int, classes)
	countB := make([]int, classes)
	same := 0
	for i, ca := range a.Pix {
		cb := b.Pix[i]
		if int(ca) >= classes || int(cb) >= classes {
			return Agreement{}, fmt.Errorf("lifecycle: class %d or %d out of %d classes", ca, cb, classes)
		}
		countA[ca]++
		countB[cb]++
		if ca == cb {
			same++
			inter[ca]++
		}
	}
	iouSum, present := 0.0, 0
	for c := range classes {
		if union := countA[c] + countB[c] - inter[c]; union > 0 {
			iouSum += float64(inter[c]) / float64(union)
			present++
		}
	}
	ag := Agreement{Pixel: float64(same) / float64(n), MeanIoU: 1}
	if present > 0 {
		ag.MeanIoU = iouSum / float64(present)
	}
	if model.ClassPet < classes {
		ag.PetAreaDiff = math.Abs(float64(countA[model.ClassPet]-countB[model.ClassPet])) / float64(n)
	}
	return ag, nil
}

func size(m *imaging.Mask) string {
	if m == nil {
		return "none"
	}
	return fmt.Sprintf("%dx%d", m.Width, m.Height)
}
