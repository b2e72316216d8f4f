package inference_test

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/vitseg/vitseg/internal/host/runtimepaths"
	"github.com/vitseg/vitseg/internal/testsupport/modeltest"
	"github.com/vitseg/vitseg/model"
	"github.com/vitseg/vitseg/model/imaging"
	"github.com/vitseg/vitseg/model/inference"
)

func setup(t *testing.T) (*inference.Runtime, []byte) {
	t.Helper()
	return modeltest.Runtime(t), modeltest.Export(t, model.PresetTiny, "1", 3)
}

func TestResolveLibrary(t *testing.T) {
	if _, err := inference.ResolveLibrary(filepath.Join(t.TempDir(), "nope.so")); !errors.Is(err, inference.ErrLibraryNotFound) {
		t.Errorf("missing explicit library: err = %v, want ErrLibraryNotFound", err)
	}
	t.Setenv("VITSEG_CACHE", t.TempDir())
	t.Setenv(inference.LibraryEnv, "")
	if _, err := inference.ResolveLibrary(""); !errors.Is(err, inference.ErrLibraryNotFound) {
		t.Errorf("empty cache: err = %v, want ErrLibraryNotFound", err)
	}
	lib := filepath.Join(t.TempDir(), "lib.so")
	if err := os.WriteFile(lib, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(inference.LibraryEnv, lib)
	if got, err := inference.ResolveLibrary(""); err != nil || got != lib {
		t.Errorf("ResolveLibrary from env = %q, %v; want %q", got, err, lib)
	}

	t.Setenv(inference.LibraryEnv, "")
	cache, err := runtimepaths.Default()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(cache.ORTDir(), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cache.ORTLib(), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := inference.ResolveLibrary(""); err != nil || got != cache.ORTLib() {
		t.Errorf("ResolveLibrary from the cache = %q, %v; want %q", got, err, cache.ORTLib())
	}

	for _, k := range []string{"VITSEG_CACHE", "XDG_CACHE_HOME", "HOME"} {
		t.Setenv(k, "")
	}
	if _, err := inference.ResolveLibrary(""); !errors.Is(err, inference.ErrLibraryNotFound) || !strings.Contains(err.Error(), "no cache directory") {
		t.Errorf("no cache directory: err = %v, want ErrLibraryNotFound saying so", err)
	}
}

func TestLoadRejectsForeignModels(t *testing.T) {
	rt, _ := setup(t)
	if _, err := rt.Load([]byte("definitely not onnx"), inference.Options{}); err == nil {
		t.Error("garbage loaded")
	}
	if _, err := rt.Load(nil, inference.Options{}); err == nil {
		t.Error("empty model loaded")
	}
}

func TestRunValidatesAndCancels(t *testing.T) {
	rt, b := setup(t)
	sess, err := rt.Load(b, inference.Options{Device: inference.DeviceCPU, IntraOpThreads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	if _, err := sess.Run(context.Background(), make([]float32, 10), 1); err == nil {
		t.Error("wrong input length accepted")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := sess.Run(ctx, make([]float32, sess.ImageLen()), 1); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled run: err = %v", err)
	}
}

func TestSegmentRealPhotosAndConcurrentRuns(t *testing.T) {
	rt, b := setup(t)
	sess, err := rt.Load(b, inference.Options{Device: inference.DeviceCPU})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	dir := modeltest.DatasetDir(t)
	var batch []*inference.Prepared
	for _, name := range []string{"Abyssinian_1.jpg", "Abyssinian_34.jpg", "Bengal_10.jpg"} {
		data, err := os.ReadFile(filepath.Join(dir, "images", name))
		if err != nil {
			t.Fatal(err)
		}
		p, err := inference.Prepare(data, sess.Config().ImageSize, imaging.DecodeOptions{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		batch = append(batch, p)
	}
	results, err := sess.Segment(context.Background(), batch)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range results {
		if r.Mask.Width != batch[i].Width || r.Mask.Height != batch[i].Height || r.Mask.Full() == nil {
			t.Errorf("image %d: mask %dx%d, photo %dx%d", i, r.Mask.Width, r.Mask.Height, batch[i].Width, batch[i].Height)
		}
		sum := 0.0
		for _, f := range r.Stats.Fractions {
			sum += f
		}
		if math.Abs(sum-1) > 1e-9 {
			t.Errorf("image %d: fractions sum to %v", i, sum)
		}
	}

	// Concurrent callers get exactly the sequential results.
	images := append(append([]float32(nil), batch[0].Tensor...), batch[1].Tensor...)
	want, err := sess.Run(context.Background(), images, 2)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := sess.Run(context.Background(), images, 2)
			if err != nil {
				errs <- err
				return
			}
			for i := range got {
				if got[i] != want[i] {
					errs <- errors.New("concurrent run differs from the sequential one")
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestSessionOptionsApply(t *testing.T) {
	rt, b := setup(t)
	sess, err := rt.Load(b, inference.Options{Device: inference.DeviceCPU, IntraOpThreads: 1, InterOpThreads: 1,
		DisableSpinning: true})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	if _, err := sess.Run(context.Background(), make([]float32, sess.ImageLen()), 1); err != nil {
		t.Fatal(err)
	}
}

// TestOpenRefusesAnotherLibrary: ONNX Runtime's environment is process-wide; a second Open of the same library
// (also through a link) shares it, one of another library is refused instead of silently running the first.
func TestOpenRefusesAnotherLibrary(t *testing.T) {
	rt := modeltest.Runtime(t)
	link := filepath.Join(t.TempDir(), "libonnxruntime.so.1")
	if err := os.Symlink(rt.Library(), link); err != nil {
		t.Fatal(err)
	}
	again, err := inference.Open(link)
	if err != nil {
		t.Fatalf("Open of the loaded library through a link: %v", err)
	}
	if again.Library() != rt.Library() {
		t.Errorf("Library() = %q, want the loaded %q", again.Library(), rt.Library())
	}
	other := filepath.Join(t.TempDir(), "libother.so")
	if err := os.WriteFile(other, []byte("not a library"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := inference.Open(other); !errors.Is(err, inference.ErrOtherLibrary) {
		t.Errorf("Open(another library) = %v, want ErrOtherLibrary", err)
	}
}
