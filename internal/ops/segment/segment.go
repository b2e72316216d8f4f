// Package segment is `vitseg segment`: it segments local image files into mask PNGs (and overlays) in a
// folder, in batches, printing one JSON line per file.
package segment

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vitseg/vitseg/internal/atomicfile"
	"github.com/vitseg/vitseg/model"
	"github.com/vitseg/vitseg/model/imaging"
	"github.com/vitseg/vitseg/model/inference"
)

// ErrCollidingOutputs reports two inputs that would write the same outputs.
var ErrCollidingOutputs = errors.New("inputs would write the same outputs")

// Files segments image files with Session into OutDir.
type Files struct {
	Session *inference.Session
	// OutDir receives NAME.mask.png (and NAME.overlay.png with Overlay) of each input NAME.EXT.
	OutDir  string
	Overlay bool
	Decode  imaging.DecodeOptions
	// BatchSize is the number of images per inference batch.
	BatchSize int
}

// Run segments files, writing one JSON line (a Line) per file to out, and returns how many failed; its error
// concerns the whole run (inference, writing out).
func (s Files) Run(ctx context.Context, files []string, out io.Writer) (failed int, err error) {
	enc := json.NewEncoder(out)
	for lo := 0; lo < len(files); lo += max(s.BatchSize, 1) {
		n, err := s.batch(ctx, files[lo:min(lo+max(s.BatchSize, 1), len(files))], enc)
		failed += n
		if err != nil {
			return failed, err
		}
	}
	return failed, nil
}

// Line is the JSON line written for each input file.
type Line struct {
	File           string             `json:"file"`
	Width          int                `json:"width,omitempty"`
	Height         int                `json:"height,omitempty"`
	Orientation    int                `json:"orientation,omitempty"` // EXIF orientation applied (1 = none)
	Mask           string             `json:"mask,omitempty"`
	Overlay        string             `json:"overlay,omitempty"`
	ClassFractions map[string]float64 `json:"class_fractions,omitempty"`
	PetBBox        *imaging.BBox      `json:"pet_bbox,omitempty"`
	Millis         float64            `json:"ms,omitempty"`
	Error          string             `json:"error,omitempty"`
}

// outputBase is the NAME of file's NAME.mask.png and NAME.overlay.png.
func outputBase(file string) string {
	return strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
}

// CheckDistinct refuses inputs that would write the same outputs (a/x.jpg and b/x.png, say): the later one
// would silently replace the earlier one's mask, and both JSON lines would name it.
func CheckDistinct(files []string) error {
	seen := map[string]string{}
	for _, f := range files {
		if prev, ok := seen[outputBase(f)]; ok {
			return fmt.Errorf("%w: %s and %s would both write %s.mask.png", ErrCollidingOutputs, prev, f, outputBase(f))
		}
		seen[outputBase(f)] = f
	}
	return nil
}

// batch segments files, printing one line per file; it returns the number of files that failed, and an error
// only for failures that concern the whole run (inference, output directory).
func (s Files) batch(ctx context.Context, files []string, enc *json.Encoder) (int, error) {
	start := time.Now()
	var prepared []*inference.Prepared
	var names []string
	var photos [][]byte // for overlays, which are drawn on the full-size photo
	failed := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		var p *inference.Prepared
		if err == nil {
			p, err = inference.Prepare(data, s.Session.Config().ImageSize, s.Decode)
		}
		if err != nil {
			failed++
			if err := enc.Encode(Line{File: f, Error: err.Error()}); err != nil {
				return failed, err
			}
			continue
		}
		prepared = append(prepared, p)
		names = append(names, f)
		if s.Overlay {
			photos = append(photos, data)
		}
	}
	results, err := s.Session.Segment(ctx, prepared)
	if err != nil {
		return failed, err
	}
	perImage := float64(time.Since(start).Microseconds()) / 1000 / float64(max(len(files), 1))
	for i, r := range results {
		var photo []byte
		if s.Overlay {
			photo = photos[i]
		}
		line, err := s.write(names[i], prepared[i], photo, r)
		if err != nil {
			failed++
			line = Line{File: names[i], Error: err.Error()}
		}
		line.Millis = perImage
		if err := enc.Encode(line); err != nil {
			return failed, err
		}
	}
	return failed, nil
}

func (s Files) write(file string, p *inference.Prepared, photo []byte, r inference.Segmentation) (Line, error) {
	base := outputBase(file)
	line := Line{File: file, Width: p.Width, Height: p.Height, Orientation: int(p.Orientation), PetBBox: r.Stats.PetBBox,
		ClassFractions: map[string]float64{}}
	for c, name := range model.ClassNames() {
		if c < len(r.Stats.Fractions) {
			line.ClassFractions[name] = r.Stats.Fractions[c]
		}
	}
	var buf bytes.Buffer
	if err := r.Mask.EncodePNG(&buf); err != nil {
		return line, err
	}
	line.Mask = filepath.Join(s.OutDir, base+".mask.png")
	if err := atomicfile.WriteBytes(line.Mask, buf.Bytes(), 0o644); err != nil {
		return line, err
	}
	if s.Overlay {
		full, err := imaging.DecodeWith(photo, s.Decode)
		if err != nil {
			return line, err
		}
		buf.Reset()
		if err := png.Encode(&buf, imaging.Overlay(full.Image, r.Mask.Base, 0.5)); err != nil {
			return line, fmt.Errorf("encode overlay: %w", err)
		}
		line.Overlay = filepath.Join(s.OutDir, base+".overlay.png")
		if err := atomicfile.WriteBytes(line.Overlay, buf.Bytes(), 0o644); err != nil {
			return line, err
		}
	}
	return line, nil
}
