// Package training trains and evaluates the vitseg ViT on labeled pets in the Oxford-IIIT Pet layout, read from
// a local directory or a bucket prefix, and writes the visual report of a run.
package training

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/minio/minio-go/v7"
	"go.uber.org/zap"

	"github.com/vitseg/vitseg/internal/objstore"
	"github.com/vitseg/vitseg/model/imaging"
	"github.com/vitseg/vitseg/model/registry"
)

// trimapsDir is the directory of the trimaps in a dataset.
const trimapsDir = "annotations/trimaps/"

// Source reads a dataset laid out as Oxford-IIIT Pet: images/NAME.jpg, annotations/trimaps/NAME.png and optional
// annotations/trainval.txt and annotations/test.txt. Paths are slash-separated and relative to the dataset root.
type Source interface {
	// List returns the file names (not paths) directly under dir.
	List(ctx context.Context, dir string) ([]string, error)
	// Read returns the content of a file; a missing file is reported with fs.ErrNotExist.
	Read(ctx context.Context, name string) ([]byte, error)
	// String describes the source for logs and manifests.
	String() string
}

// DirSource reads a dataset from a local directory.
type DirSource struct{ Root string }

// List implements Source.
func (d DirSource) List(_ context.Context, dir string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(d.Root, filepath.FromSlash(dir)))
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		if !e.IsDir() {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

// Read implements Source.
func (d DirSource) Read(_ context.Context, name string) ([]byte, error) {
	return os.ReadFile(filepath.Join(d.Root, filepath.FromSlash(name)))
}

func (d DirSource) String() string { return d.Root }

// BucketSource reads a dataset from a bucket prefix: PREFIX/images/..., PREFIX/annotations/trimaps/....
type BucketSource struct {
	Client *minio.Client
	Bucket string
	Prefix string
	// Scored, when not nil, holds the only labels to read: the trimaps serve has scored (registry.ScoredLabels).
	// A trimap not in it with the ETag it has now reads as ErrLabelNotScored, and Load leaves its pair out.
	Scored registry.ScoredSet
}

// ErrLabelNotScored reports a trimap that serve has not scored yet (BucketSource.Scored): no model trains on a
// label before that label has judged the models serving it.
var ErrLabelNotScored = errors.New("label not scored by serve yet")

func (b BucketSource) key(name string) string { return path.Join(b.Prefix, name) }

// List implements Source.
func (b BucketSource) List(ctx context.Context, dir string) ([]string, error) {
	prefix := strings.TrimPrefix(b.key(dir)+"/", "/")
	var names []string
	for obj := range b.Client.ListObjects(ctx, b.Bucket, minio.ListObjectsOptions{Prefix: prefix}) {
		if obj.Err != nil {
			return nil, fmt.Errorf("list s3://%s/%s: %w", b.Bucket, prefix, obj.Err)
		}
		if name := strings.TrimPrefix(obj.Key, prefix); name != "" && !strings.Contains(name, "/") {
			names = append(names, name)
		}
	}
	return names, nil
}

// Read implements Source; a file over the decoder's default limit on an encoded image is refused, and so is a
// trimap not in Scored, when it is set.
func (b BucketSource) Read(ctx context.Context, name string) ([]byte, error) {
	key := b.key(name)
	o, err := objstore.Get(ctx, b.Client, b.Bucket, key, imaging.DefaultLimits().MaxBytes)
	if err != nil {
		return nil, fmt.Errorf("get s3://%s/%s: %w", b.Bucket, key, err)
	}
	if b.Scored != nil && strings.HasPrefix(name, trimapsDir) && !b.Scored.Has(key, o.ETag) {
		return nil, fmt.Errorf("s3://%s/%s (ETag %s): %w", b.Bucket, key, o.ETag, ErrLabelNotScored)
	}
	return o.Data, nil
}

func (b BucketSource) String() string { return "s3://" + path.Join(b.Bucket, b.Prefix) }

// Example is one pre-processed image and its ground-truth mask at the model resolution.
type Example struct {
	Name  string
	Image []float32 // CHW, 0..1
	Mask  []uint8   // class ids, row-major, at the model's resolution
	// Trimap is the original trimap PNG, at the photo's own size, kept encoded (a few kB) for scoring at the
	// photo's size (EvaluateSession); nil when not kept.
	Trimap []byte
	// ImageSHA256 is the hex SHA-256 of the photo's file: how an unlabeled copy of it is recognised.
	ImageSHA256 string
	// Pseudo marks a photo whose Mask is a teacher's pseudo-label (IgnoreLabel where it was not confident).
	Pseudo bool
}

// Splits of a dataset.
const (
	SplitTrain = "train" // trainval minus the validation part
	SplitVal   = "val"   // carved from trainval, deterministically by name
	SplitTest  = "test"  // the official test split; only for final reports
)

// LoadOptions configures Load.
type LoadOptions struct {
	ImageSize   int     // model resolution (128)
	ValFraction float64 // share of trainval held out for validation
	MinPairs    int     // fail when fewer usable pairs remain
	Limits      imaging.Limits
	Logger      *zap.Logger
}

// Dataset is a loaded, pre-processed dataset.
type Dataset struct {
	Size     int
	Splits   map[string][]Example
	Skipped  map[string]int // reason -> count of pairs that could not be used
	Manifest Manifest
}

// Manifest identifies the data a model was trained on.
type Manifest struct {
	Source string         `json:"source"`
	Pairs  int            `json:"pairs"`
	Splits map[string]int `json:"splits"`
	SHA256 string         `json:"sha256"` // over the sorted names and the bytes of every used pair
}

// ErrTooFewPairs reports a dataset with fewer usable pairs than LoadOptions.MinPairs.
var ErrTooFewPairs = errors.New("too few usable image/trimap pairs")

// Load reads every image/trimap pair of src, pre-processes it to the model resolution and assigns it to a split.
// Pairs that cannot be used are skipped, counted by reason and logged; .mat files and other non-image files in
// images/ are ignored.
func Load(ctx context.Context, src Source, opts LoadOptions) (*Dataset, error) {
	log := opts.Logger
	if log == nil {
		log = zap.NewNop()
	}
	if opts.ImageSize <= 0 {
		return nil, fmt.Errorf("image size %d must be positive", opts.ImageSize)
	}
	files, err := src.List(ctx, "images")
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	official, err := readSplitFiles(ctx, src)
	if err != nil {
		return nil, err
	}

	ds := &Dataset{Size: opts.ImageSize, Splits: map[string][]Example{}, Skipped: map[string]int{}}
	digest := sha256.New()
	skip := func(name, reason string, err error) {
		ds.Skipped[reason]++
		log.Warn("skipping pair", zap.String("name", name), zap.String("reason", reason), zap.Error(err))
	}
	for _, file := range files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		ext := strings.ToLower(path.Ext(file))
		if ext != ".jpg" && ext != ".jpeg" && ext != ".png" {
			ds.Skipped["not an image file ("+ext+")"]++
			continue
		}
		name := strings.TrimSuffix(file, path.Ext(file))
		imgBytes, err := src.Read(ctx, "images/"+file)
		if err != nil {
			skip(name, "unreadable image", err)
			continue
		}
		triBytes, err := src.Read(ctx, trimapsDir+name+".png")
		if errors.Is(err, ErrLabelNotScored) {
			skip(name, "label not scored yet", err)
			continue
		}
		if err != nil {
			skip(name, "missing trimap", err)
			continue
		}
		ex, reason, err := preprocessPair(name, imgBytes, triBytes, opts)
		if err != nil {
			skip(name, reason, err)
			continue
		}
		digest.Write([]byte(name))
		digest.Write(imgBytes)
		digest.Write(triBytes)
		split := assignSplit(name, official, opts.ValFraction)
		ds.Splits[split] = append(ds.Splits[split], ex)
	}

	total := 0
	counts := map[string]int{}
	for s, exs := range ds.Splits {
		total += len(exs)
		counts[s] = len(exs)
	}
	ds.Manifest = Manifest{Source: src.String(), Pairs: total, Splits: counts, SHA256: hex.EncodeToString(digest.Sum(nil))}
	if total < max(opts.MinPairs, 1) {
		return nil, fmt.Errorf("%w: %d usable of %d files in %s (skipped: %v); need at least %d",
			ErrTooFewPairs, total, len(files), src, ds.Skipped, max(opts.MinPairs, 1))
	}
	log.Info("dataset loaded", zap.String("source", src.String()), zap.Int("pairs", total),
		zap.Any("splits", counts), zap.Any("skipped", ds.Skipped))
	return ds, nil
}

func preprocessPair(name string, imgBytes, triBytes []byte, opts LoadOptions) (Example, string, error) {
	// The same decode as served (inference.Prepare): JPEGs at the smallest DCT scale that covers the model's
	// input, EXIF orientation applied; Width and Height are the full displayed size the trimap must have.
	dec, err := imaging.DecodeWith(imgBytes, imaging.DecodeOptions{Limits: opts.Limits, MinSize: opts.ImageSize})
	if err != nil {
		return Example{}, "undecodable image", err
	}
	trimap, err := DecodeTrimap(triBytes)
	if err != nil {
		return Example{}, "bad trimap", err
	}
	if trimap.Width != dec.Width || trimap.Height != dec.Height {
		return Example{}, "size mismatch", fmt.Errorf("image %dx%d, trimap %dx%d",
			dec.Width, dec.Height, trimap.Width, trimap.Height)
	}
	s := opts.ImageSize
	ex := Example{Name: name, Image: make([]float32, 3*s*s)}
	if err := imaging.ToTensor(dec.Image, s, ex.Image); err != nil {
		return Example{}, "undecodable image", err
	}
	ex.Mask = imaging.ResizeMask(trimap, s, s).Pix
	ex.Trimap = triBytes
	sum := sha256.Sum256(imgBytes)
	ex.ImageSHA256 = hex.EncodeToString(sum[:])
	return ex, "", nil
}

// DecodeTrimap decodes an Oxford-IIIT Pet trimap PNG into a mask of class ids (imaging.DecodeTrimap).
func DecodeTrimap(b []byte) (*imaging.Mask, error) { return imaging.DecodeTrimap(b) }

// readSplitFiles maps names to "trainval" or "test" from the official split files, when present.
func readSplitFiles(ctx context.Context, src Source) (map[string]string, error) {
	split := map[string]string{}
	for _, s := range []string{"trainval", "test"} {
		b, err := src.Read(ctx, "annotations/"+s+".txt")
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read split file: %w", err)
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			if f := strings.Fields(sc.Text()); len(f) > 0 && !strings.HasPrefix(f[0], "#") {
				split[f[0]] = s
			}
		}
	}
	return split, nil
}

// assignSplit puts a name in train, val or test: the official split when listed (validation carved from
// trainval), otherwise a deterministic hash split (20% test).
func assignSplit(name string, official map[string]string, valFraction float64) string {
	u := unitHash(name)
	s, ok := official[name]
	if !ok {
		if len(official) > 0 {
			// Unlisted pairs in a dataset that has split files: keep them away from the test split.
			s = "trainval"
		} else if unitHash("test/"+name) < 0.2 {
			s = "test"
		} else {
			s = "trainval"
		}
	}
	if s == "test" {
		return SplitTest
	}
	if u < valFraction {
		return SplitVal
	}
	return SplitTrain
}

// unitHash maps a name to [0, 1) deterministically.
func unitHash(name string) float64 {
	sum := sha256.Sum256([]byte(name))
	return float64(binary.BigEndian.Uint64(sum[:8])>>11) / float64(1<<53)
}
