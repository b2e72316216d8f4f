package results

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"sort"

	"github.com/minio/minio-go/v7"
	"golang.org/x/image/draw"

	"github.com/vitseg/vitseg/events"
	"github.com/vitseg/vitseg/internal/atomicfile"
	"github.com/vitseg/vitseg/internal/objstore"
	"github.com/vitseg/vitseg/model/imaging"
)

// WriteContactSheet draws up to maxN photos, in key order, with their mask overlays in a grid of 160 px thumbnails.
func WriteContactSheet(ctx context.Context, client *minio.Client, results []events.ResultEvent, maxN int, path string) error {
	sort.Slice(results, func(i, j int) bool { return results[i].Source.Key < results[j].Source.Key })
	results = results[:min(maxN, len(results))]
	const cell, cols = 160, 6
	rows := (len(results) + cols - 1) / cols
	sheet := image.NewRGBA(image.Rect(0, 0, cols*cell, rows*cell))
	get := func(bucket, key string) ([]byte, error) {
		o, err := objstore.Get(ctx, client, bucket, key, imaging.DefaultLimits().MaxBytes)
		return o.Data, err
	}
	for i, r := range results {
		photoBytes, err := get(r.Source.Bucket, r.Source.Key)
		if err != nil {
			return fmt.Errorf("contact sheet: %w", err)
		}
		maskBytes, err := get(r.Mask.Bucket, r.Mask.Key)
		if err != nil {
			return fmt.Errorf("contact sheet: %w", err)
		}
		photo, err := imaging.Decode(bytes.NewReader(photoBytes), imaging.DefaultLimits())
		if err != nil {
			return fmt.Errorf("contact sheet: %s: %w", r.Source.Key, err)
		}
		mask, err := imaging.DecodeMaskPNG(bytes.NewReader(maskBytes))
		if err != nil {
			return fmt.Errorf("contact sheet: %s: %w", r.Mask.Key, err)
		}
		overlay := imaging.Overlay(photo.Image, mask, 0.45)
		x, y := (i%cols)*cell, (i/cols)*cell
		draw.ApproxBiLinear.Scale(sheet, image.Rect(x, y, x+cell, y+cell), overlay, overlay.Bounds(), draw.Src, nil)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, sheet); err != nil {
		return err
	}
	return atomicfile.WriteBytes(path, buf.Bytes(), 0o644)
}
