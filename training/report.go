package training

import (
	"errors"
	"fmt"
	"image/gif"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"

	"gonum.org/v1/plot/vg"

	"github.com/vitseg/vitseg/internal/atomicfile"
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

// writeFileAtomic writes dir/name through write, atomically (see package atomicfile).
func writeFileAtomic(dir, name string, write func(io.Writer) error) error {
	if err := atomicfile.Write(filepath.Join(dir, name), 0o644, write); err != nil {
		return fmt.Errorf("training: report: %w", err)
	}
	return nil
}
