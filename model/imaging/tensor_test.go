package imaging

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	xdraw "golang.org/x/image/draw"
)

func TestToTensorArguments(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	tests := []struct {
		name string
		img  image.Image
		size int
		dst  []float32
	}{
		{"nil image", nil, 2, make([]float32, 12)},
		{"zero size", img, 0, nil},
		{"negative size", img, -3, nil},
		{"huge size", img, MaxTensorSize + 1, nil},
		{"short dst", img, 2, make([]float32, 11)},
		{"long dst", img, 2, make([]float32, 13)},
		{"empty image", image.NewRGBA(image.Rect(3, 3, 3, 9)), 2, make([]float32, 12)},
	}
	for _, tt := range tests {
		if err := ToTensor(tt.img, tt.size, tt.dst); err == nil {
			t.Errorf("%s: ToTensor succeeded, want an error", tt.name)
		}
	}
}

// TestToTensorLayout checks the CHW layout and the /255 scaling exactly on
// an image that needs no resampling.
func TestToTensorLayout(t *testing.T) {
	colors := [2][2]color.RGBA{
		{{255, 0, 0, 255}, {0, 255, 0, 255}},
		{{0, 0, 255, 255}, {51, 102, 204, 255}},
	}
	// Offset bounds, as from SubImage, and a non-RGBA twin of the same image.
	rgba := image.NewRGBA(image.Rect(10, 20, 12, 22))
	nrgba := image.NewNRGBA(image.Rect(0, 0, 2, 2))
	for y := range 2 {
		for x := range 2 {
			rgba.SetRGBA(10+x, 20+y, colors[y][x])
			nrgba.Set(x, y, colors[y][x])
		}
	}
	want := []float32{
		1, 0, 0, 0.2, // R plane: (0,0) (1,0) (0,1) (1,1)
		0, 1, 0, 0.4, // G plane
		0, 0, 1, 0.8, // B plane
	}
	for _, img := range []image.Image{rgba, nrgba} {
		dst := make([]float32, 12)
		if err := ToTensor(img, 2, dst); err != nil {
			t.Fatal(err)
		}
		for i := range want {
			if dst[i] != want[i] {
				t.Errorf("%T: dst[%d] = %v, want %v (all %v)", img, i, dst[i], want[i], dst)
				break
			}
		}
	}
}

// TestToTensorUniform: any resize of a uniform image is that colour, exactly,
// whether it shrinks, grows or changes the aspect ratio.
func TestToTensorUniform(t *testing.T) {
	c := color.RGBA{17, 128, 250, 255}
	for _, r := range []image.Rectangle{image.Rect(0, 0, 37, 23), image.Rect(0, 0, 1, 1), image.Rect(5, 5, 505, 380)} {
		img := image.NewRGBA(r)
		for i := 0; i < len(img.Pix); i += 4 {
			copy(img.Pix[i:], []uint8{c.R, c.G, c.B, c.A})
		}
		for _, size := range []int{1, 8, 224} {
			dst := make([]float32, 3*size*size)
			if err := ToTensor(img, size, dst); err != nil {
				t.Fatal(err)
			}
			for i, v := range dst {
				want := float32([]uint8{c.R, c.G, c.B}[i/(size*size)]) / 255
				if v != want {
					t.Fatalf("%v -> %d: dst[%d] = %v, want %v", r, size, i, v, want)
				}
			}
		}
	}
}

// TestToTensorAntialiased: 1-pixel black/white columns shrunk 4x average to
// mid-gray; a resampler without antialiasing would return 0 or 1 (nearest)
// or pick up only two of the four columns.
func TestToTensorAntialiased(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 64, 64))
	for y := range 64 {
		for x := 1; x < 64; x += 2 {
			img.SetGray(x, y, color.Gray{Y: 255})
		}
	}
	dst := make([]float32, 3*16*16)
	if err := ToTensor(img, 16, dst); err != nil {
		t.Fatal(err)
	}
	for i, v := range dst {
		if v < 0.4 || v > 0.6 {
			t.Fatalf("dst[%d] = %v, want about 0.5", i, v)
		}
	}
}

func TestToTensorAlphaOnBlack(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 8, 8))
	for i := 0; i < len(img.Pix); i += 4 {
		copy(img.Pix[i:], []uint8{255, 255, 255, 0})
	}
	dst := make([]float32, 3*4*4)
	if err := ToTensor(img, 4, dst); err != nil {
		t.Fatal(err)
	}
	for i, v := range dst {
		if v != 0 {
			t.Fatalf("transparent white: dst[%d] = %v, want 0 (composited on black)", i, v)
		}
	}
}

// pilResize is an independent float64 implementation of PIL's
// Image.resize(size, BILINEAR) (antialiased: the triangle filter's support
// grows with the downscale factor; pixel centres at +0.5), the resize
// torchvision applies to PIL images. It does not round between the two
// passes, so PIL itself may differ from it by about one 8-bit level.
func pilResize(src *image.RGBA, size int) [3][]float64 {
	sw, sh := src.Rect.Dx(), src.Rect.Dy()
	coeffs := func(in, out int) (lo []int, w [][]float64) {
		scale := float64(in) / float64(out)
		support := max(scale, 1.0)
		for o := range out {
			center := (float64(o) + 0.5) * scale
			xmin := max(int(center-support+0.5), 0)
			xmax := min(int(center+support+0.5), in)
			ws := make([]float64, xmax-xmin)
			total := 0.0
			for i := range ws {
				x := math.Abs((float64(i+xmin) - center + 0.5) / support)
				if x < 1 {
					ws[i] = 1 - x
				}
				total += ws[i]
			}
			for i := range ws {
				ws[i] /= total
			}
			lo, w = append(lo, xmin), append(w, ws)
		}
		return lo, w
	}
	xlo, xw := coeffs(sw, size)
	ylo, yw := coeffs(sh, size)
	var out [3][]float64
	for c := range 3 {
		horiz := make([]float64, sh*size)
		for y := range sh {
			for ox := range size {
				s := 0.0
				for i, w := range xw[ox] {
					s += w * float64(src.Pix[src.PixOffset(src.Rect.Min.X+xlo[ox]+i, src.Rect.Min.Y+y)+c])
				}
				horiz[y*size+ox] = s
			}
		}
		out[c] = make([]float64, size*size)
		for oy := range size {
			for ox := range size {
				s := 0.0
				for i, w := range yw[oy] {
					s += w * horiz[(ylo[oy]+i)*size+ox]
				}
				out[c][oy*size+ox] = s / 255
			}
		}
	}
	return out
}

// TestToTensorMatchesPILBilinear compares ToTensor with the PIL resize on
// real photos (downscaling, both aspect ratios) and on random noise
// (upscaling, the hardest case for rounding).
func TestToTensorMatchesPILBilinear(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	noise := image.NewRGBA(image.Rect(0, 0, 7, 5))
	for i := range noise.Pix {
		noise.Pix[i] = uint8(rng.IntN(256))
		if i%4 == 3 {
			noise.Pix[i] = 255
		}
	}
	tests := []struct {
		name string
		img  func(t *testing.T) *image.RGBA
		size int
	}{
		{"landscape photo 600x400 -> 224", func(t *testing.T) *image.RGBA {
			return decodeDataset(t, "images/Abyssinian_1.jpg").Image
		}, 224},
		{"portrait photo -> 96", func(t *testing.T) *image.RGBA {
			return decodeDataset(t, "images/Abyssinian_10.jpg").Image
		}, 96},
		{"GIF photo 250x202 -> 224 (upscale)", func(t *testing.T) *image.RGBA {
			return decodeDataset(t, "images/Abyssinian_34.jpg").Image
		}, 224},
		{"noise 7x5 -> 16 (upscale)", func(*testing.T) *image.RGBA { return noise }, 16},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img := tt.img(t)
			dst := make([]float32, 3*tt.size*tt.size)
			if err := ToTensor(img, tt.size, dst); err != nil {
				t.Fatal(err)
			}
			ref := pilResize(img, tt.size)
			var maxDiff, sumDiff float64
			plane := tt.size * tt.size
			for c := range 3 {
				for i, want := range ref[c] {
					d := math.Abs(float64(dst[c*plane+i]) - want)
					maxDiff = max(maxDiff, d)
					sumDiff += d
				}
			}
			meanDiff := sumDiff / float64(3*plane)
			t.Logf("max |diff| %.2f/255, mean %.3f/255", maxDiff*255, meanDiff*255)
			// Storing 8 bits loses less than one level; x/image/draw
			// truncates its 16-bit result, so the mean error is about half a
			// level.
			if maxDiff > 1.0/255+1e-9 || meanDiff > 0.75/255 {
				t.Errorf("differs from PIL bilinear: max %.3f/255, mean %.3f/255", maxDiff*255, meanDiff*255)
			}
		})
	}
}

func decodeDataset(tb testing.TB, rel string) *Decoded {
	tb.Helper()
	d, err := Decode(bytes.NewReader(readDataset(tb, rel)), DefaultLimits())
	if err != nil {
		tb.Fatalf("%s: %v", rel, err)
	}
	return d
}

// tensorGolden is one entry of testdata/golden.json.
type tensorGolden struct {
	Format  Format     `json:"format"`
	Width   int        `json:"width"`
	Height  int        `json:"height"`
	Mean    [3]float64 `json:"mean"`
	Std     [3]float64 `json:"std"`
	Min     [3]float32 `json:"min"`
	Max     [3]float32 `json:"max"`
	Samples []float32  `json:"samples"` // dst[i] for i in goldenSampleIndices
	SHA256  string     `json:"sha256"`  // of dst as little-endian float32
}

type goldenFile struct {
	Comment string                  `json:"comment"`
	Size    int                     `json:"size"`
	Images  map[string]tensorGolden `json:"images"`
}

const goldenSize = 224

var goldenImages = []string{"images/Abyssinian_1.jpg", "images/Abyssinian_34.jpg", "images/Bengal_1.jpg", "images/american_bulldog_10.jpg"}

// goldenSampleIndices spreads 24 probes over the three planes.
func goldenSampleIndices() []int {
	plane := goldenSize * goldenSize
	var idx []int
	for c := range 3 {
		for _, p := range [][2]int{{0, 0}, {223, 0}, {0, 223}, {223, 223}, {112, 112}, {50, 170}, {170, 60}, {111, 7}} {
			idx = append(idx, c*plane+p[1]*goldenSize+p[0])
		}
	}
	return idx
}

func computeGolden(d *Decoded, dst []float32) tensorGolden {
	g := tensorGolden{Format: d.Format, Width: d.Width, Height: d.Height}
	plane := goldenSize * goldenSize
	for c := range 3 {
		vals := dst[c*plane:][:plane]
		g.Min[c], g.Max[c] = vals[0], vals[0]
		var sum, sq float64
		for _, v := range vals {
			sum += float64(v)
			g.Min[c], g.Max[c] = min(g.Min[c], v), max(g.Max[c], v)
		}
		g.Mean[c] = sum / float64(plane)
		for _, v := range vals {
			sq += (float64(v) - g.Mean[c]) * (float64(v) - g.Mean[c])
		}
		g.Std[c] = math.Sqrt(sq / float64(plane))
	}
	for _, i := range goldenSampleIndices() {
		g.Samples = append(g.Samples, dst[i])
	}
	h := sha256.New()
	if err := binary.Write(h, binary.LittleEndian, dst); err != nil {
		panic(err) // writing to a hash cannot fail
	}
	g.SHA256 = hex.EncodeToString(h.Sum(nil))
	return g
}

// TestToTensorGolden pins the whole pre-processing (decode, resize, CHW) of
// real photos to testdata/golden.json; run with -update to regenerate after
// an intended change. Statistics and probes are compared with a tolerance
// of one 8-bit level; the checksum exactly on amd64 only, because Go may
// fuse multiply-adds on other architectures (the float64 resampler's results
// can then differ in the last bit and, rarely, by one level).
func TestToTensorGolden(t *testing.T) {
	path := filepath.Join("testdata", "golden.json")
	got := goldenFile{
		Comment: "ToTensor(Decode(photo), 224) per image: per-channel stats, probe values, sha256 of the float32 LE tensor; regenerate with go test -run TestToTensorGolden -update",
		Size:    goldenSize,
		Images:  map[string]tensorGolden{},
	}
	for _, name := range goldenImages {
		d := decodeDataset(t, name)
		dst := make([]float32, 3*goldenSize*goldenSize)
		if err := ToTensor(d.Image, goldenSize, dst); err != nil {
			t.Fatal(err)
		}
		got.Images[name] = computeGolden(d, dst)
	}
	if *update {
		b, err := json.MarshalIndent(got, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", path)
		return
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (generate it with -update)", err)
	}
	var want goldenFile
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	if want.Size != goldenSize || len(want.Images) != len(goldenImages) {
		t.Fatalf("golden file is for size %d and %d images; regenerate with -update", want.Size, len(want.Images))
	}
	const tol = 1.0/255 + 1e-6
	near := func(a, b float64) bool { return math.Abs(a-b) <= tol }
	for name, g := range got.Images {
		w, ok := want.Images[name]
		if !ok {
			t.Errorf("%s: not in golden file", name)
			continue
		}
		if g.Format != w.Format || g.Width != w.Width || g.Height != w.Height {
			t.Errorf("%s: %s %dx%d, golden %s %dx%d", name, g.Format, g.Width, g.Height, w.Format, w.Width, w.Height)
		}
		for c := range 3 {
			if !near(g.Mean[c], w.Mean[c]) || !near(g.Std[c], w.Std[c]) ||
				!near(float64(g.Min[c]), float64(w.Min[c])) || !near(float64(g.Max[c]), float64(w.Max[c])) {
				t.Errorf("%s channel %d: mean %.5f std %.5f min %v max %v, golden %.5f %.5f %v %v",
					name, c, g.Mean[c], g.Std[c], g.Min[c], g.Max[c], w.Mean[c], w.Std[c], w.Min[c], w.Max[c])
			}
		}
		if len(g.Samples) != len(w.Samples) {
			t.Errorf("%s: %d probes, golden %d", name, len(g.Samples), len(w.Samples))
			continue
		}
		for i := range g.Samples {
			if !near(float64(g.Samples[i]), float64(w.Samples[i])) {
				t.Errorf("%s: probe %d = %v, golden %v", name, i, g.Samples[i], w.Samples[i])
			}
		}
		if runtime.GOARCH == "amd64" && g.SHA256 != w.SHA256 {
			t.Errorf("%s: tensor sha256 %s, golden %s", name, g.SHA256, w.SHA256)
		}
	}
}

// BenchmarkToTensor measures the per-image pre-processing of the pipeline:
// a 500x375 photo to a 224x224 CHW tensor.
func BenchmarkToTensor(b *testing.B) {
	d := decodeDataset(b, "images/Abyssinian_105.jpg")
	if d.Width != 500 || d.Height != 375 {
		b.Fatalf("benchmark photo is %dx%d, want 500x375", d.Width, d.Height)
	}
	dst := make([]float32, 3*224*224)
	b.ReportAllocs()
	for b.Loop() {
		if err := ToTensor(d.Image, 224, dst); err != nil {
			b.Fatal(err)
		}
	}
}

// TestToTensorMatchesXDraw: the fixed-point resize stays within one 8-bit
// level of golang.org/x/image/draw.BiLinear (the float64 reference whose
// weights it uses) on real photos, shrinking and growing, square or not.
func TestToTensorMatchesXDraw(t *testing.T) {
	d := decodeDataset(t, "images/Abyssinian_1.jpg")
	crops := []image.Rectangle{d.Image.Bounds(), image.Rect(100, 50, 163, 150), image.Rect(7, 9, 8, 40)}
	for _, r := range crops {
		src := d.Image.SubImage(r).(*image.RGBA)
		for _, size := range []int{1, 17, 128, 224} {
			ref := image.NewRGBA(image.Rect(0, 0, size, size))
			xdraw.BiLinear.Scale(ref, ref.Rect, src, src.Bounds(), xdraw.Src, nil)
			dst := make([]float32, 3*size*size)
			if err := ToTensor(src, size, dst); err != nil {
				t.Fatal(err)
			}
			worst := 0.0
			for c := range 3 {
				for i := range size * size {
					want := float64(ref.Pix[4*i+c]) / 255
					worst = max(worst, math.Abs(float64(dst[c*size*size+i])-want))
				}
			}
			if worst > 1.0/255+1e-6 {
				t.Errorf("%v -> %d: largest difference to x/image/draw %.5f, want <= 1/255", r, size, worst)
			}
		}
	}
}
