// Package registry keeps versioned models in an S3 bucket and a pointer to the version being served.
//
// Layout under the root prefix (default "models"):
//
//	models/NAME/VERSION/model.onnx      the exported model, stored as opaque bytes
//	models/NAME/VERSION/metadata.json   VersionMetadata
//	models/NAME/VERSION/report/...      the training report files
//	models/NAME/current.json            Pointer: the version being served
//
// Versions are zero-padded decimal integers ("000001", "000002", ...), so lexical order is numeric order.
//
// The registry never parses the ONNX bytes: everything it needs (model metadata, metrics, the size and SHA-256 of
// model.onnx) is in metadata.json, which the training job fills from the same model.Metadata it embeds in the file.
//
// Consistency relies on conditional writes (If-None-Match / If-Match on PutObject, supported by MinIO and S3):
//   - a version is claimed by creating its metadata.json with If-None-Match: *, so two uploaders never share a
//     version and an upload never overwrites an existing version;
//   - model.onnx and the report are uploaded after the claim and metadata.json is rewritten after them, so a
//     version whose status is not StatusCandidate has a complete model;
//   - current.json is written last, as a single PutObject (readers see the old or the new pointer, never a mix),
//     and as a compare-and-swap on the ETag read before (If-Match, or If-None-Match: * when there is no pointer
//     yet). A writer that loses the race reads the pointer again and re-decides, up to a bounded number of
//     attempts (ErrConflict after that). Promote and Rollback also check that model.onnx is complete (its size
//     matches metadata.json) before moving the pointer.
package registry

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"mime"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"go.uber.org/zap"

	"github.com/vitseg/vitseg/internal/objstore"
	"github.com/vitseg/vitseg/model"
)

// Object names inside a version prefix and under the model prefix.
const (
	ModelFile    = "model.onnx"
	MetadataFile = "metadata.json"
	ReportDir    = "report"
	PointerFile  = "current.json"
)

// DefaultRoot is the default prefix of all registries in a bucket.
const DefaultRoot = "models"

// versionWidth is the number of digits of a version number; larger numbers simply get longer.
const versionWidth = 6

// maxJSONBytes bounds the size of metadata.json and current.json read back.
const maxJSONBytes = 4 << 20

// Version statuses recorded in metadata.json.
const (
	// StatusCandidate marks a version being uploaded, uploaded but not gated, or abandoned by a failed upload.
	StatusCandidate = "candidate"
	// StatusPublished marks a version that passed the quality gate (or was forced) and was made current.
	StatusPublished = "published"
	// StatusRejected marks a version that failed the quality gate; VersionMetadata.Reason says why.
	StatusRejected = "rejected"
)

// Errors callers branch on.
var (
	// ErrNoCurrent reports that the model has no current.json yet.
	ErrNoCurrent = errors.New("registry: no current version")
	// ErrNotFound reports a version without metadata.json.
	ErrNotFound = errors.New("registry: version not found")
	// ErrVersionExists reports an upload to a version that already exists.
	ErrVersionExists = errors.New("registry: version already exists")
	// ErrInvalidVersion reports a version string that is not a decimal number.
	ErrInvalidVersion = errors.New("registry: invalid version")
	// ErrIncomplete reports a version whose model.onnx is missing or not fully uploaded.
	ErrIncomplete = errors.New("registry: version incomplete")
	// ErrChecksum reports a downloaded model.onnx whose SHA-256 (or size, when larger) differs from metadata.json.
	ErrChecksum = errors.New("registry: model checksum mismatch")
	// ErrConflict reports that concurrent writers kept changing current.json (or taking versions) and the bounded
	// retries ran out.
	ErrConflict = errors.New("registry: concurrent update conflict")
	// ErrNoPrevious reports a rollback with no earlier version to go back to.
	ErrNoPrevious = errors.New("registry: no previous version")
	// ErrMissingMetric reports a publish whose metrics lack the gate's metric (allowed only with force).
	ErrMissingMetric = errors.New("registry: gate metric missing")
)

var versionPattern = regexp.MustCompile(`^[0-9]{1,18}$`)

// Registry stores the versions of one model in a bucket. It is safe for concurrent use, also across processes.
type Registry struct {
	client      *minio.Client
	bucket      string
	root        string
	name        string
	log         *zap.Logger
	maxAttempts int

	// beforePointerWrite, when set (by tests), runs between reading current.json and writing it back.
	beforePointerWrite func()
}

// Option configures New.
type Option func(*Registry)

// WithRoot sets the prefix under which models are stored (default DefaultRoot).
func WithRoot(root string) Option {
	return func(r *Registry) { r.root = strings.Trim(root, "/") }
}

// WithLogger sets the logger (default: no logging).
func WithLogger(log *zap.Logger) Option {
	return func(r *Registry) {
		if log != nil {
			r.log = log
		}
	}
}

// WithMaxAttempts bounds the compare-and-swap attempts on current.json and on claiming a version (default 8).
func WithMaxAttempts(n int) Option {
	return func(r *Registry) { r.maxAttempts = max(n, 1) }
}

// New returns the registry of model name in bucket. The bucket must exist.
func New(client *minio.Client, bucket, name string, opts ...Option) *Registry {
	r := &Registry{
		client:      client,
		bucket:      bucket,
		root:        DefaultRoot,
		name:        strings.Trim(name, "/"),
		log:         zap.NewNop(),
		maxAttempts: 8,
	}
	for _, o := range opts {
		o(r)
	}
	r.log = r.log.With(zap.String("bucket", bucket), zap.String("model_name", r.name))
	return r
}

// VersionMetadata is the content of a version's metadata.json.
type VersionMetadata struct {
	// Version is the version this file describes; it is set by the registry on upload.
	Version string `json:"version"`
	// Parent is the version that was current when this one was published (what the gate compared it with);
	// empty for the first version.
	Parent string `json:"parent,omitempty"`
	// Status is StatusCandidate, StatusPublished or StatusRejected.
	Status string `json:"status"`
	// Reason is the quality gate's verdict: why the version was rejected, or why it was published.
	Reason string `json:"reason,omitempty"`
	// Model is the metadata embedded in the ONNX file.
	Model model.Metadata `json:"model"`
	// Metrics are the evaluation metrics on EvalSplit (higher is better), e.g. "pixel_accuracy", "mean_iou".
	Metrics map[string]float64 `json:"metrics"`
	// EvalSplit identifies the evaluation split; metrics are comparable only between equal splits.
	EvalSplit string `json:"eval_split"`
	// Dataset is the training data manifest (pair count, content hash), as the training job writes it.
	Dataset json.RawMessage `json:"dataset,omitempty"`
	// CreatedAt is when the version was uploaded; the registry sets it when zero.
	CreatedAt time.Time `json:"created_at"`
	// CodeVersion is the version of the code that trained the model.
	CodeVersion string `json:"code_version,omitempty"`
	// ModelSize and ModelSHA256 describe model.onnx; the registry sets them on upload and checks them on download.
	ModelSize   int64  `json:"model_size"`
	ModelSHA256 string `json:"model_sha256"`
}

// Pointer is the content of current.json.
type Pointer struct {
	Version   string    `json:"version"`
	UpdatedAt time.Time `json:"updated_at"`
	// Previous is the version to roll back to ("" if none).
	Previous string `json:"previous"`
}

// FormatVersion formats version number n (n >= 1) as a registry version.
func FormatVersion(n int64) string {
	return fmt.Sprintf("%0*d", versionWidth, n)
}

// ParseVersion returns the number of a registry version.
func ParseVersion(v string) (int64, error) {
	if !versionPattern.MatchString(v) {
		return 0, fmt.Errorf("%w: %q", ErrInvalidVersion, v)
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%w: %q", ErrInvalidVersion, v)
	}
	return n, nil
}

func (r *Registry) modelPrefix() string {
	return path.Join(r.root, r.name) + "/"
}

func (r *Registry) versionKey(version, file string) string {
	return r.modelPrefix() + version + "/" + file
}

func (r *Registry) pointerKey() string {
	return r.modelPrefix() + PointerFile
}

// versions lists the version numbers that have a prefix in the bucket, in ascending order.
func (r *Registry) versions(ctx context.Context) ([]int64, error) {
	prefix := r.modelPrefix()
	var nums []int64
	for obj := range r.client.ListObjects(ctx, r.bucket, minio.ListObjectsOptions{Prefix: prefix}) {
		if obj.Err != nil {
			return nil, fmt.Errorf("registry: list %s: %w", prefix, obj.Err)
		}
		name, isDir := strings.CutSuffix(strings.TrimPrefix(obj.Key, prefix), "/")
		if !isDir {
			continue
		}
		n, err := ParseVersion(name)
		if err != nil || name != FormatVersion(n) {
			continue // Not a version directory.
		}
		nums = append(nums, n)
	}
	slices.Sort(nums)
	return nums, nil
}

// NextVersion returns the version after the highest existing one ("000001" for an empty registry). Another
// uploader may take it first; Upload reports that as ErrVersionExists and Publish retries with the next one.
func (r *Registry) NextVersion(ctx context.Context) (string, error) {
	nums, err := r.versions(ctx)
	if err != nil {
		return "", err
	}
	if len(nums) == 0 {
		return FormatVersion(1), nil
	}
	return FormatVersion(nums[len(nums)-1] + 1), nil
}

// Upload stores a new version: it claims the version (ErrVersionExists if it exists), uploads model.onnx, then
// every regular file under reportDir (if not "") to report/, then metadata.json with meta.Status (default
// StatusCandidate). It does not move current.json; see Promote and Publish.
func (r *Registry) Upload(ctx context.Context, version string, onnx []byte, meta VersionMetadata, reportDir string) error {
	status := meta.Status
	if status == "" {
		status = StatusCandidate
	}
	if err := checkStatus(status); err != nil {
		return err
	}
	meta, err := r.upload(ctx, version, onnx, meta, reportDir)
	if err != nil {
		return err
	}
	if status == StatusCandidate {
		return nil
	}
	meta.Status = status
	return r.putMetadata(ctx, meta)
}

func checkStatus(s string) error {
	switch s {
	case StatusCandidate, StatusPublished, StatusRejected:
		return nil
	}
	return fmt.Errorf("registry: unknown status %q", s)
}

// upload claims version with a candidate metadata.json, then uploads the model and the report. It returns the
// metadata as stored.
func (r *Registry) upload(ctx context.Context, version string, onnx []byte, meta VersionMetadata, reportDir string) (VersionMetadata, error) {
	if _, err := ParseVersion(version); err != nil {
		return meta, err
	}
	if len(onnx) == 0 {
		return meta, errors.New("registry: empty model")
	}
	if reportDir != "" {
		// Fail before claiming the version rather than leave an abandoned candidate behind.
		resolved, err := filepath.EvalSymlinks(reportDir)
		if err != nil {
			return meta, fmt.Errorf("registry: report: %w", err)
		}
		if info, err := os.Stat(resolved); err != nil || !info.IsDir() {
			return meta, fmt.Errorf("registry: report %s is not a directory", reportDir)
		}
		reportDir = resolved
	}
	sum := sha256.Sum256(onnx)
	meta.Version = version
	meta.Status = StatusCandidate
	meta.ModelSize = int64(len(onnx))
	meta.ModelSHA256 = hex.EncodeToString(sum[:])
	if meta.CreatedAt.IsZero() {
		meta.CreatedAt = time.Now().UTC()
	}
	data, err := json.MarshalIndent(meta, "", "  ")
	if err != nil {
		return meta, fmt.Errorf("registry: encode metadata: %w", err)
	}
	claim := minio.PutObjectOptions{ContentType: "application/json"}
	claim.SetMatchETagExcept("*") // If-None-Match: *: create only.
	if _, err := r.putBytes(ctx, r.versionKey(version, MetadataFile), data, claim); err != nil {
		if objstore.IsPreconditionFailed(err) {
			return meta, fmt.Errorf("%w: %s", ErrVersionExists, version)
		}
		return meta, err
	}
	log := r.log.With(zap.String("version", version))
	log.Debug("claimed version")

	if _, err := r.putBytes(ctx, r.versionKey(version, ModelFile), onnx,
		minio.PutObjectOptions{ContentType: "application/octet-stream"}); err != nil {
		return meta, err
	}
	if reportDir != "" {
		if err := r.uploadReport(ctx, version, reportDir); err != nil {
			return meta, err
		}
	}
	log.Info("uploaded version", zap.Int64("model_bytes", meta.ModelSize), zap.String("sha256", meta.ModelSHA256))
	return meta, nil
}

// uploadReport uploads every regular file under dir to the version's report/ prefix.
func (r *Registry) uploadReport(ctx context.Context, version, dir string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("registry: report: %w", err)
		}
		if !d.Type().IsRegular() {
			if !d.IsDir() {
				r.log.Warn("skipping non-regular report file", zap.String("path", p))
			}
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return fmt.Errorf("registry: report: %w", err)
		}
		key := r.versionKey(version, ReportDir+"/"+filepath.ToSlash(rel))
		contentType := mime.TypeByExtension(filepath.Ext(p))
		if contentType == "" {
			contentType = "application/octet-stream"
		}
		if _, err := r.client.FPutObject(ctx, r.bucket, key, p, minio.PutObjectOptions{ContentType: contentType}); err != nil {
			return fmt.Errorf("registry: upload %s: %w", key, err)
		}
		return nil
	})
}

func (r *Registry) putMetadata(ctx context.Context, meta VersionMetadata) error {
	data, err := json.MarshalIndent(meta, "", "  ")
	if err != nil {
		return fmt.Errorf("registry: encode metadata: %w", err)
	}
	_, err = r.putBytes(ctx, r.versionKey(meta.Version, MetadataFile), data,
		minio.PutObjectOptions{ContentType: "application/json"})
	return err
}

func (r *Registry) putBytes(ctx context.Context, key string, data []byte, opts minio.PutObjectOptions) (minio.UploadInfo, error) {
	info, err := r.client.PutObject(ctx, r.bucket, key, bytes.NewReader(data), int64(len(data)), opts)
	if err != nil {
		return info, fmt.Errorf("registry: put %s: %w", key, err)
	}
	return info, nil
}

// getBytes reads an object of at most limit bytes and its ETag; a missing object matches fs.ErrNotExist, a
// larger one objstore.ErrTooLarge.
func (r *Registry) getBytes(ctx context.Context, key string, limit int64) ([]byte, string, error) {
	o, err := objstore.Get(ctx, r.client, r.bucket, key, limit)
	if err != nil {
		return nil, "", fmt.Errorf("registry: get %s: %w", key, err)
	}
	return o.Data, o.ETag, nil
}

// Get returns the metadata of version (ErrNotFound if it does not exist).
func (r *Registry) Get(ctx context.Context, version string) (VersionMetadata, error) {
	if _, err := ParseVersion(version); err != nil {
		return VersionMetadata{}, err
	}
	data, _, err := r.getBytes(ctx, r.versionKey(version, MetadataFile), maxJSONBytes)
	if errors.Is(err, fs.ErrNotExist) {
		return VersionMetadata{}, fmt.Errorf("%w: %s", ErrNotFound, version)
	}
	if err != nil {
		return VersionMetadata{}, err
	}
	var meta VersionMetadata
	if err := json.Unmarshal(data, &meta); err != nil {
		return VersionMetadata{}, fmt.Errorf("registry: decode metadata of %s: %w", version, err)
	}
	if meta.Version != version {
		return VersionMetadata{}, fmt.Errorf("registry: metadata of %s names version %q", version, meta.Version)
	}
	return meta, nil
}

// Model downloads model.onnx of version and checks its size and SHA-256 against metadata.json (ErrIncomplete,
// ErrChecksum).
func (r *Registry) Model(ctx context.Context, version string) ([]byte, error) {
	meta, err := r.Get(ctx, version)
	if err != nil {
		return nil, err
	}
	key := r.versionKey(version, ModelFile)
	data, _, err := r.getBytes(ctx, key, meta.ModelSize)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s has no %s", ErrIncomplete, version, ModelFile)
	}
	if errors.Is(err, objstore.ErrTooLarge) {
		return nil, fmt.Errorf("%w: %v (metadata says %d bytes)", ErrChecksum, err, meta.ModelSize)
	}
	if err != nil {
		return nil, err
	}
	if int64(len(data)) != meta.ModelSize {
		return nil, fmt.Errorf("%w: %s is %d bytes, metadata says %d", ErrIncomplete, key, len(data), meta.ModelSize)
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != meta.ModelSHA256 {
		return nil, fmt.Errorf("%w: %s has sha256 %s, metadata says %s", ErrChecksum, key, got, meta.ModelSHA256)
	}
	return data, nil
}

// checkComplete verifies that model.onnx of meta is uploaded in full.
func (r *Registry) checkComplete(ctx context.Context, meta VersionMetadata) error {
	key := r.versionKey(meta.Version, ModelFile)
	info, err := r.client.StatObject(ctx, r.bucket, key, minio.StatObjectOptions{})
	if objstore.IsNotFound(err) {
		return fmt.Errorf("%w: %s has no %s", ErrIncomplete, meta.Version, ModelFile)
	}
	if err != nil {
		return fmt.Errorf("registry: stat %s: %w", key, err)
	}
	if meta.ModelSize == 0 || info.Size != meta.ModelSize {
		return fmt.Errorf("%w: %s is %d bytes, metadata says %d", ErrIncomplete, key, info.Size, meta.ModelSize)
	}
	return nil
}

// List returns the metadata of every version, oldest first. Version directories without metadata.json are
// skipped with a warning.
func (r *Registry) List(ctx context.Context) ([]VersionMetadata, error) {
	nums, err := r.versions(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]VersionMetadata, 0, len(nums))
	for _, n := range nums {
		meta, err := r.Get(ctx, FormatVersion(n))
		if errors.Is(err, ErrNotFound) {
			r.log.Warn("version without metadata", zap.String("version", FormatVersion(n)))
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, meta)
	}
	return out, nil
}
