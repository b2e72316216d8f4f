package training_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"image"
	"image/color"
	"image/png"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/vitseg/vitseg/model/imaging"
	"github.com/vitseg/vitseg/training"
)

func pngBytes(t *testing.T, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// trimap returns a w x h trimap: the left half pet (1), the right half background (2), a border column (3).
func trimap(w, h int) *image.Gray {
	g := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			v := uint8(2)
			if x < w/2 {
				v = 1
			}
			if x == w/2 {
				v = 3
			}
			g.SetGray(x, y, color.Gray{Y: v})
		}
	}
	return g
}

func photo(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 7)
	}
	return img
}

// writeDataset lays out files (relative path -> content) under a new temp dir.
func writeDataset(t *testing.T, files map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	for rel, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoadSkipsAndCountsBadPairs(t *testing.T) {
	good := pngBytes(t, photo(40, 30))
	files := map[string][]byte{
		"images/ok_1.png":                  good,
		"images/ok_2.png":                  good,
		"images/ok_3.png":                  good,
		"annotations/trimaps/ok_1.png":     pngBytes(t, trimap(40, 30)),
		"annotations/trimaps/ok_2.png":     pngBytes(t, trimap(40, 30)),
		"annotations/trimaps/ok_3.png":     pngBytes(t, trimap(40, 30)),
		"images/no_trimap.png":             good,
		"images/corrupt.jpg":               []byte("\xff\xd8\xff\xe0 truncated"),
		"annotations/trimaps/corrupt.png":  pngBytes(t, trimap(40, 30)),
		"images/mismatch.png":              good,
		"annotations/trimaps/mismatch.png": pngBytes(t, trimap(20, 30)),
		"images/ok_1.mat":                  []byte("MATLAB 5.0"),
	}
	ds, err := training.Load(context.Background(), training.DirSource{Root: writeDataset(t, files)},
		training.LoadOptions{ImageSize: 16, MinPairs: 3, Limits: imaging.DefaultLimits()})
	if err != nil {
		t.Fatal(err)
	}
	if ds.Manifest.Pairs != 3 {
		t.Errorf("usable pairs = %d, want 3", ds.Manifest.Pairs)
	}
	want := map[string]int{"missing trimap": 1, "undecodable image": 1, "size mismatch": 1, "not an image file (.mat)": 1}
	for reason, n := range want {
		if ds.Skipped[reason] != n {
			t.Errorf("skipped[%q] = %d, want %d (all: %v)", reason, ds.Skipped[reason], n, ds.Skipped)
		}
	}
	// Hash split without split files: every usable pair lands somewhere, masks are class ids.
	total := 0
	for _, exs := range ds.Splits {
		total += len(exs)
		for _, ex := range exs {
			if len(ex.Image) != 3*16*16 || len(ex.Mask) != 16*16 {
				t.Fatalf("%s: image %d values, mask %d", ex.Name, len(ex.Image), len(ex.Mask))
			}
			if ex.Mask[0] != 0 || ex.Mask[15] != 1 {
				t.Errorf("%s: mask corners %d, %d; want pet (0) left and background (1) right", ex.Name, ex.Mask[0], ex.Mask[15])
			}
		}
	}
	if total != 3 {
		t.Errorf("split total %d, want 3", total)
	}

	if _, err := training.Load(context.Background(), training.DirSource{Root: writeDataset(t, files)},
		training.LoadOptions{ImageSize: 16, MinPairs: 4}); err == nil {
		t.Error("Load with MinPairs 4 and 3 usable pairs succeeded")
	}
}

func TestLoadUsesOfficialSplitsAndCarvesValidation(t *testing.T) {
	ds, err := training.Load(context.Background(), training.DirSource{Root: datasetDir(t)},
		training.LoadOptions{ImageSize: 128, ValFraction: 0.15, MinPairs: 100, Limits: imaging.DefaultLimits()})
	if err != nil {
		t.Fatal(err)
	}
	train, val, test := len(ds.Splits[training.SplitTrain]), len(ds.Splits[training.SplitVal]), len(ds.Splits[training.SplitTest])
	// The official test list (147 names) stays the test split; trainval and the few pairs listed in neither
	// file (kept away from test) make train + val.
	if test != 147 || train+val < 300 || train+val+test != ds.Manifest.Pairs {
		t.Errorf("train %d + val %d + test %d: want test 147 and train+val >= 300 of %d pairs", train, val, test, ds.Manifest.Pairs)
	}
	if val < 25 || val > 65 {
		t.Errorf("validation split has %d pairs, want about 15%% of 300", val)
	}
	if ds.Skipped["not an image file (.mat)"] != 3 {
		t.Errorf("skipped = %v, want the 3 .mat files", ds.Skipped)
	}
}

func TestMetricsOnHandMadeMasks(t *testing.T) {
	// truth: pet pet bg bg border border ; pred: pet bg bg bg border pet
	truth := []uint8{0, 0, 1, 1, 2, 2}
	pred := []uint8{0, 1, 1, 1, 2, 0}
	c := training.NewConfusion(3)
	if err := c.Add(truth, pred); err != nil {
		t.Fatal(err)
	}
	m := c.Metrics()
	check := func(name string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-12 {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	check("pixel accuracy", m.PixelAccuracy, 4.0/6)
	check("iou pet", m.ClassIoU["pet"], 1.0/3)               // tp 1, fn 1, fp 1
	check("iou background", m.ClassIoU["background"], 2.0/3) // tp 2, fp 1
	check("iou border", m.ClassIoU["border"], 1.0/2)         // tp 1, fn 1
	check("mean iou", m.MeanIoU, (1.0/3+2.0/3+1.0/2)/3)
	// Background-truth pixels ignored: pet tp 1, fn 1 (pred bg), fp 1 (border pixel predicted pet) -> 1/3;
	// border tp 1, fn 1 -> 1/2.
	check("article iou", m.ArticleIoU, (1.0/3+1.0/2)/2)
	if err := c.Add([]uint8{0}, []uint8{0, 1}); err == nil {
		t.Error("Add with mismatched lengths succeeded")
	}
}

func TestDownloadExtractsArchiveFromServer(t *testing.T) {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	add := func(name string, data []byte) {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []string{"a_1", "a_2", "a_3"} {
		add("images/"+n+".png", pngBytes(t, photo(20, 20)))
		add("annotations/trimaps/"+n+".png", pngBytes(t, trimap(20, 20)))
	}
	add("annotations/trainval.txt", []byte("a_1 1 1 1\na_2 1 1 1\n"))
	add("annotations/test.txt", []byte("a_3 1 1 1\n"))
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/pets.tar.gz" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(buf.Bytes())
	}))
	defer srv.Close()

	dir := t.TempDir()
	if err := training.Download(context.Background(), srv.Client(), []string{srv.URL + "/pets.tar.gz"}, dir); err != nil {
		t.Fatal(err)
	}
	ds, err := training.Load(context.Background(), training.DirSource{Root: dir}, training.LoadOptions{ImageSize: 16, MinPairs: 3})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(ds.Splits[training.SplitTest]); n != 1 {
		t.Errorf("test split has %d pairs, want 1", n)
	}
	if err := training.Download(context.Background(), srv.Client(), []string{srv.URL + "/missing.tar.gz"}, dir); err == nil {
		t.Error("download of a missing archive succeeded")
	}
}

func TestExtractRefusesPathTraversal(t *testing.T) {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	if err := tw.WriteHeader(&tar.Header{Name: "../evil.txt", Mode: 0o644, Size: 1, Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	_, _ = tw.Write([]byte("x"))
	_ = tw.Close()
	_ = gz.Close()
	if err := training.ExtractTarGz(&buf, t.TempDir()); err == nil {
		t.Error("an entry escaping the target directory was extracted")
	}
}
