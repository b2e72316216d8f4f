package pipeline_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"image"
	"image/jpeg"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/vitseg/vitseg/internal/testsupport/imagetest"
	"github.com/vitseg/vitseg/model/imaging"
	"github.com/vitseg/vitseg/pipeline"
)

// TestEXIFOrientation: a 200x300 JPEG stored with orientation 6, as phones store portrait photos, is segmented
// upright: its result event gives the displayed 300x200 size and orientation 6, and its mask PNG is 300x200. With
// --exif-orientation=false (Config.IgnoreOrientation) the stored pixels are segmented as they are.
func TestEXIFOrientation(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 200, 300))
	for i := range img.Pix {
		img.Pix[i] = uint8(i)
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	photo := imagetest.WithEXIFOrientation(buf.Bytes(), 6, binary.BigEndian)
	tests := []struct {
		name              string
		ignore            bool
		w, h, orientation int
	}{
		{"applied", false, 300, 200, 6},
		{"ignored", true, 200, 300, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startStack(t)
			results := s.collect(t, resultTopic)
			s.startPipeline(t, pipeline.ModelSource{File: writeModel(t, exportTiny(t, "v1", 1))}, testLogger(t),
				func(c *pipeline.Config) { c.IgnoreOrientation = tt.ignore })
			if _, err := s.s3.PutObject(context.Background(), bucket, uploads+"portrait.jpg", bytes.NewReader(photo),
				int64(len(photo)), minio.PutObjectOptions{ContentType: "image/jpeg"}); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 60*time.Second, "the result event", func() bool { return len(results.snapshot()) >= 1 })
			ev := decodeResults(t, results.snapshot())[0]
			if ev.Image.Width != tt.w || ev.Image.Height != tt.h || ev.Image.Orientation != tt.orientation {
				t.Errorf("event image %+v, want %dx%d orientation %d", ev.Image, tt.w, tt.h, tt.orientation)
			}
			obj, err := s.s3.GetObject(context.Background(), ev.Mask.Bucket, ev.Mask.Key, minio.GetObjectOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer obj.Close()
			mask, err := imaging.DecodeMaskPNG(obj)
			if err != nil {
				t.Fatal(err)
			}
			if mask.Width != tt.w || mask.Height != tt.h {
				t.Errorf("mask %dx%d, want %dx%d", mask.Width, mask.Height, tt.w, tt.h)
			}
		})
	}
}
