package main

import (
	"bytes"
	"context"
	"encoding/json"
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

// segmentLine is the JSON line printed for each input file.
type segmentLine struct {
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

func runSegment(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("segment", "segment --model FILE.onnx [--overlay] -o OUTDIR IMAGES...", stderr)
	modelPath := fs.String("model", "", "ONNX model file (required)")
	outDir := fs.String("o", "", "output directory for NAME.mask.png (and NAME.overlay.png) (required)")
	overlay := fs.Bool("overlay", false, "also write NAME.overlay.png: the mask blended over the photo")
	batchSize := fs.Int("batch", 8, "images per inference batch")
	var lim limitFlags
	lim.register(fs, "files")
	orient := exifOrientationFlag(fs)
	var local localModelFlags
	local.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	files := fs.Args()
	switch {
	case *modelPath == "":
		return usagef("--model is required")
	case *outDir == "":
		return usagef("-o OUTDIR is required")
	case len(files) == 0:
		return usagef("no images given")
	case *batchSize <= 0:
		return usagef("--batch must be positive")
	}
	if err := distinctOutputs(files); err != nil {
		return err
	}
	_, sess, err := local.open(*modelPath, stderr)
	if err != nil {
		return err
	}
	defer sess.Close()
	if err := os.MkdirAll(*outDir, 0o755); err != nil {
		return fmt.Errorf("create output directory: %w", err)
	}

	seg := segmenter{sess: sess, outDir: *outDir, overlay: *overlay,
		decode: imaging.DecodeOptions{Limits: lim.limits(),
			IgnoreOrientation: !*orient}, out: json.NewEncoder(stdout)}
	failed := 0
	for lo := 0; lo < len(files); lo += *batchSize {
		n, err := seg.batch(ctx, files[lo:min(lo+*batchSize, len(files))])
		failed += n
		if err != nil {
			return err
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d files could not be segmented", failed, len(files))
	}
	return nil
}

// outputBase is the NAME of file's NAME.mask.png and NAME.overlay.png.
func outputBase(file string) string {
	return strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
}

// distinctOutputs refuses inputs that would write the same outputs (a/x.jpg and b/x.png, say): the later one
// would silently replace the earlier one's mask, and both JSON lines would name it.
func distinctOutputs(files []string) error {
	seen := map[string]string{}
	for _, f := range files {
		if prev, ok := seen[outputBase(f)]; ok {
			return usagef("%s and %s would both write %s.mask.png", prev, f, outputBase(f))
		}
		seen[outputBase(f)] = f
	}
	return nil
}

type segmenter struct {
	sess    *inference.Session
	outDir  string
	overlay bool
	decode  imaging.DecodeOptions
	out     *json.Encoder
}

// batch segments files, printing one line per file; it returns the number of files that failed, and an error
// only for failures that concern the whole run (inference, output directory).
func (s *segmenter) batch(ctx context.Context, files []string) (int, error) {
	start := time.Now()
	var prepared []*inference.Prepared
	var names []string
	var photos [][]byte // for overlays, which are drawn on the full-size photo
	failed := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		var p *inference.Prepared
		if err == nil {
			p, err = inference.Prepare(data, s.sess.Config().ImageSize, s.decode)
		}
		if err != nil {
			failed++
			if err := s.out.Encode(segmentLine{File: f, Error: err.Error()}); err != nil {
				return failed, err
			}
			continue
		}
		prepared = append(prepared, p)
		names = append(names, f)
		if s.overlay {
			photos = append(photos, data)
		}
	}
	results, err := s.sess.Segment(ctx, prepared)
	if err != nil {
		return failed, err
	}
	perImage := float64(time.Since(start).Microseconds()) / 1000 / float64(max(len(files), 1))
	for i, r := range results {
		var photo []byte
		if s.overlay {
			photo = photos[i]
		}
		line, err := s.write(names[i], prepared[i], photo, r)
		if err != nil {
			failed++
			line = segmentLine{File: names[i], Error: err.Error()}
		}
		line.Millis = perImage
		if err := s.out.Encode(line); err != nil {
			return failed, err
		}
	}
	return failed, nil
}

func (s *segmenter) write(file string, p *inference.Prepared, photo []byte, r inference.Segmentation) (segmentLine, error) {
	base := outputBase(file)
	line := segmentLine{File: file, Width: p.Width, Height: p.Height, Orientation: int(p.Orientation), PetBBox: r.Stats.PetBBox,
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
	line.Mask = filepath.Join(s.outDir, base+".mask.png")
	if err := atomicfile.WriteBytes(line.Mask, buf.Bytes(), 0o644); err != nil {
		return line, err
	}
	if s.overlay {
		full, err := imaging.DecodeWith(photo, s.decode)
		if err != nil {
			return line, err
		}
		buf.Reset()
		if err := png.Encode(&buf, imaging.Overlay(full.Image, r.Mask.Base, 0.5)); err != nil {
			return line, fmt.Errorf("encode overlay: %w", err)
		}
		line.Overlay = filepath.Join(s.outDir, base+".overlay.png")
		if err := atomicfile.WriteBytes(line.Overlay, buf.Bytes(), 0o644); err != nil {
			return line, err
		}
	}
	return line, nil
}
