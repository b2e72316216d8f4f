package training

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/minio/minio-go/v7"
	"go.uber.org/zap"

	"github.com/vitseg/vitseg/internal/objstore"
	"github.com/vitseg/vitseg/model/imaging"
)

// UnlabeledSource lists and reads unlabeled photos: a directory tree, or a bucket prefix where users' uploads land.
type UnlabeledSource interface {
	// Names returns the photo names (paths relative to the source), every file under it.
	Names(ctx context.Context) ([]string, error)
	// Read returns a photo's bytes, never more than limit+1 of them: a larger photo is refused, by an error or
	// by the bytes over limit that the decoder refuses.
	Read(ctx context.Context, name string, limit int64) ([]byte, error)
	// String describes the source for logs and manifests.
	String() string
}

// UnlabeledDir reads the files under a local directory, recursively.
type UnlabeledDir struct{ Root string }

// Names implements UnlabeledSource.
func (d UnlabeledDir) Names(_ context.Context) ([]string, error) {
	var names []string
	err := filepath.WalkDir(d.Root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.Type().IsRegular() {
			rel, err := filepath.Rel(d.Root, p)
			if err != nil {
				return err
			}
			names = append(names, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list unlabeled photos in %s: %w", d.Root, err)
	}
	return names, nil
}

// Read implements UnlabeledSource.
func (d UnlabeledDir) Read(_ context.Context, name string, limit int64) ([]byte, error) {
	f, err := os.Open(filepath.Join(d.Root, filepath.FromSlash(name)))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readBounded(f, limit)
}

func (d UnlabeledDir) String() string { return d.Root }

// UnlabeledBucket reads the objects under a bucket prefix, recursively, leaving out those under Exclude (the
// pipeline's own mask prefix).
type UnlabeledBucket struct {
	Client         *minio.Client
	Bucket, Prefix string
	Exclude        string
}

// Names implements UnlabeledSource.
func (b UnlabeledBucket) Names(ctx context.Context) ([]string, error) {
	var names []string
	for obj := range b.Client.ListObjects(ctx, b.Bucket, minio.ListObjectsOptions{Prefix: b.Prefix, Recursive: true}) {
		if obj.Err != nil {
			return nil, fmt.Errorf("list s3://%s/%s: %w", b.Bucket, b.Prefix, obj.Err)
		}
		if b.Exclude != "" && strings.HasPrefix(obj.Key, b.Exclude) || strings.HasSuffix(obj.Key, "/") {
			continue
		}
		names = append(names, obj.Key)
	}
	return names, nil
}

// Read implements UnlabeledSource.
func (b UnlabeledBucket) Read(ctx context.Context, name string, limit int64) ([]byte, error) {
	o, err := objstore.Get(ctx, b.Client, b.Bucket, name, limit)
	if err != nil {
		return nil, fmt.Errorf("get s3://%s/%s: %w", b.Bucket, name, err)
	}
	return o.Data, nil
}

func (b UnlabeledBucket) String() string { return "s3://" + path.Join(b.Bucket, b.Prefix) }

// readBounded reads r up to limit+1 bytes: imaging.DecodeWith refuses more than limit.
func readBounded(r io.Reader, limit int64) ([]byte, error) {
	return io.ReadAll(io.LimitReader(r, limit+1))
}

// UnlabeledPhoto is one unlabeled photo, pre-processed for the model.
type UnlabeledPhoto struct {
	Name   string    `json:"name"`
	SHA256 string    `json:"sha256"` // of the file
	Image  []float32 `json:"-"`      // CHW, 0..1, at the model's resolution
}

// UnlabeledSet is the unlabeled photos of a run.
type UnlabeledSet struct {
	Source  string           `json:"source"`
	Photos  []UnlabeledPhoto `json:"photos"`  // the photos used, names and hashes (the run's manifest)
	Skipped map[string]int   `json:"skipped"` // reason -> count: unreadable, not an image, a copy of a labeled photo
}

// UnlabeledOptions configure LoadUnlabeled.
type UnlabeledOptions struct {
	ImageSize int
	Max       int    // at most this many photos (0: all), drawn at random by Seed
	Seed      uint64 // which photos a capped run takes
	Limits    imaging.Limits
	// Labeled holds the SHA-256 of every labeled photo: an unlabeled file with the same content is skipped.
	Labeled map[string]bool
	Logger  *zap.Logger
}

// LoadUnlabeled reads and pre-processes up to opts.Max photos of src, in a random order drawn from opts.Seed. A
// file that cannot be read or decoded, or that is a copy of a labeled photo, is skipped and counted, never fatal.
func LoadUnlabeled(ctx context.Context, src UnlabeledSource, opts UnlabeledOptions) (*UnlabeledSet, error) {
	log := opts.Logger
	if log == nil {
		log = zap.NewNop()
	}
	names, err := src.Names(ctx)
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	rand.New(rand.NewPCG(opts.Seed, 0x0b1e55ed)).Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
	set := &UnlabeledSet{Source: src.String(), Skipped: map[string]int{}}
	skip := func(name, reason string, err error) {
		set.Skipped[reason]++
		log.Debug("skipping unlabeled photo", zap.String("name", name), zap.String("reason", reason), zap.Error(err))
	}
	maxBytes := cmp.Or(opts.Limits.MaxBytes, imaging.DefaultLimits().MaxBytes)
	for _, name := range names {
		if opts.Max > 0 && len(set.Photos) >= opts.Max {
			break
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		b, err := src.Read(ctx, name, maxBytes)
		if err != nil {
			skip(name, "unreadable", err)
			continue
		}
		sum := sha256.Sum256(b)
		hash := hex.EncodeToString(sum[:])
		if opts.Labeled[hash] {
			skip(name, "a copy of a labeled photo", nil)
			continue
		}
		dec, err := imaging.DecodeWith(b, imaging.DecodeOptions{Limits: opts.Limits, MinSize: opts.ImageSize})
		if err != nil {
			skip(name, "not a decodable image", err)
			continue
		}
		photo := UnlabeledPhoto{Name: name, SHA256: hash, Image: make([]float32, 3*opts.ImageSize*opts.ImageSize)}
		if err := imaging.ToTensor(dec.Image, opts.ImageSize, photo.Image); err != nil {
			skip(name, "not a decodable image", err)
			continue
		}
		set.Photos = append(set.Photos, photo)
	}
	log.Info("unlabeled photos loaded", zap.String("source", set.Source), zap.Int("photos", len(set.Photos)),
		zap.Any("skipped", set.Skipped))
	return set, nil
}
