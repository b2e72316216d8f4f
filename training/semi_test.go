package training_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"math"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/vitseg/vitseg/internal/testsupport/modeltest"
	"github.com/vitseg/vitseg/internal/testsupport/testenv"
	"github.com/vitseg/vitseg/model"
	"github.com/vitseg/vitseg/model/imaging"
	"github.com/vitseg/vitseg/model/inference"
	"github.com/vitseg/vitseg/training"
)

// unlabeledFiles are the files of an upload prefix: three photos (one nested), a text file, a truncated JPEG and
// a copy of a labeled photo. It returns them and the labeled photo's hash.
func unlabeledFiles(t *testing.T) (map[string][]byte, string) {
	labeled := pngBytes(t, photo(20, 20))
	sum := sha256.Sum256(labeled)
	return map[string][]byte{
		"cat.png":           pngBytes(t, photo(40, 30)),
		"dog.png":           pngBytes(t, photo(25, 50)),
		"user7/puppy.png":   pngBytes(t, photo(33, 33)),
		"notes.txt":         []byte("not a photo"),
		"broken.jpg":        {0xff, 0xd8, 0xff, 0xe0, 0x00},
		"again/labeled.png": labeled,
	}, hex.EncodeToString(sum[:])
}

// TestLoadUnlabeledFromDirectoryAndBucket: the same photos come from a directory and from a real MinIO bucket
// prefix (the pipeline's masks under it left out); the corrupt and non-image files and the copy of a labeled
// photo are skipped and counted, never fatal; --unlabeled-max caps the photos taken.
func TestLoadUnlabeledFromDirectoryAndBucket(t *testing.T) {
	files, labeledHash := unlabeledFiles(t)
	dir := writeDataset(t, files)
	m := testenv.StartMinIO(t)
	m.MakeBucket("pets")
	client := m.Client(t)
	ctx := context.Background()
	files["masks/cat.png"] = pngBytes(t, photo(8, 8)) // the pipeline's own output: never an unlabeled photo
	for name, b := range files {
		if _, err := client.PutObject(ctx, "pets", "uploads/"+name, bytes.NewReader(b), int64(len(b)), minio.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	sources := []training.UnlabeledSource{
		training.UnlabeledDir{Root: dir},
		training.UnlabeledBucket{Client: client, Bucket: "pets", Prefix: "uploads/", Exclude: "uploads/masks/"},
	}
	want := map[string]int{"not a decodable image": 2, "a copy of a labeled photo": 1}
	for _, src := range sources {
		t.Run(src.String(), func(t *testing.T) {
			opts := training.UnlabeledOptions{ImageSize: 16, Limits: imaging.DefaultLimits(), Labeled: map[string]bool{labeledHash: true}}
			set, err := training.LoadUnlabeled(ctx, src, opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(set.Photos) != 3 || len(set.Skipped) != len(want) {
				t.Fatalf("%d photos, skipped %v; want 3 photos, skipped %v", len(set.Photos), set.Skipped, want)
			}
			for reason, n := range want {
				if set.Skipped[reason] != n {
					t.Errorf("skipped %v, want %v", set.Skipped, want)
				}
			}
			for _, p := range set.Photos {
				if len(p.Image) != 3*16*16 || len(p.SHA256) != 64 {
					t.Errorf("photo %s: %d values, hash %q", p.Name, len(p.Image), p.SHA256)
				}
			}
			opts.Max = 2
			if capped, err := training.LoadUnlabeled(ctx, src, opts); err != nil || len(capped.Photos) != 2 {
				t.Errorf("with Max 2: %v photos, %v", len(capped.Photos), err)
			}
		})
	}
}

func TestPseudoLabel(t *testing.T) {
	// Two one-pixel images of three classes, as class-major columns: the first sure of class 1 (p ~ 0.99), the
	// second unsure (p ~ 0.58 for class 1).
	logits := []float32{0, 0, 5, 1, 0, 0}
	tests := []struct {
		threshold float64
		want      []uint8
	}{
		{0.3, []uint8{1, 1}},
		{0.9, []uint8{1, training.IgnoreLabel}},
		{0.999, []uint8{training.IgnoreLabel, training.IgnoreLabel}},
	}
	for _, tc := range tests {
		for px := range 2 {
			l := []float32{logits[px], logits[2+px], logits[4+px]}
			got, kept := training.PseudoLabel(l, 3, 1, tc.threshold)
			wantKept := 0.0
			if tc.want[px] != training.IgnoreLabel {
				wantKept = 1
			}
			if got[0] != tc.want[px] || kept != wantKept {
				t.Errorf("threshold %g pixel %d: label %d kept %g, want %d %g", tc.threshold, px, got[0], kept, tc.want[px], wantKept)
			}
		}
	}
}

func TestChooseThreshold(t *testing.T) {
	table := []training.ThresholdPoint{{Threshold: 0.5, Accuracy: 0.8}, {Threshold: 0.8, Accuracy: 0.93}, {Threshold: 0.9, Accuracy: 0.96}, {Threshold: 0.95, Accuracy: 0.97}}
	tests := []struct {
		min  float64
		want float64
	}{{0.95, 0.9}, {0.9, 0.8}, {0.5, 0.5}, {0.99, 0.95}}
	for _, tc := range tests {
		if got := training.ChooseThreshold(table, tc.min); got != tc.want {
			t.Errorf("ChooseThreshold(min %g) = %g, want %g", tc.min, got, tc.want)
		}
	}
}

// TestTrainSemiSupervised trains the tiny network with pseudo-labeled photos, from a served teacher and from
// the student itself after a warm-up with relabelling: the warm-up epoch trains on labels alone, the others add
// Ratio x the labeled photos (or all there are), the confident share is reported and the loss stays finite.
func TestTrainSemiSupervised(t *testing.T) {
	b := backend(t)
	labeled := loadSmall(t, 8)
	photos := make([]training.UnlabeledPhoto, 6)
	for i := range photos {
		photos[i] = training.UnlabeledPhoto{Name: "u" + string(rune('a'+i)), Image: labeled[i].Image, SHA256: labeled[i].ImageSHA256}
	}
	sess, err := modeltest.Runtime(t).Load(modeltest.Export(t, model.PresetTiny, "teacher", 5), inference.Options{Device: inference.DeviceCPU, TTA: inference.TTAFlip})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	tests := []struct {
		name    string
		teacher training.Teacher
		warmup  int
		refresh int
		want    []int // pseudo-labeled photos per epoch
	}{
		{"served teacher", training.SessionTeacher(sess), 0, 0, []int{4, 4}},
		{"student after warm-up, relabelled", nil, 1, 1, []int{0, 4, 4}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := tinyTrainer(t, b, len(tc.want))
			tr.Semi = &training.SemiSupervised{Photos: photos, Teacher: tc.teacher, Threshold: 0.4, Ratio: 0.5,
				WarmupEpochs: tc.warmup, RefreshEpochs: tc.refresh, Augmentation: training.Augmentation{HFlip: true, Brightness: 0.4}}
			history, err := tr.Train(context.Background(), labeled, labeled[:2], 128)
			if err != nil {
				t.Fatal(err)
			}
			for i, h := range history {
				if h.PseudoExamples != tc.want[i] || math.IsNaN(h.TrainLoss) || h.PseudoCoverage < 0 || h.PseudoCoverage > 1 ||
					(h.PseudoExamples > 0) != (h.PseudoCoverage > 0) {
					t.Errorf("epoch %d: %d pseudo-labeled photos (want %d), coverage %g, loss %g", i+1, h.PseudoExamples, tc.want[i], h.PseudoCoverage, h.TrainLoss)
				}
			}
		})
	}
}
