// Package registry keeps versioned models in an S3 bucket and a pointer to the version being served.
//
// Layout under the root prefix (default "models"):
//
//	models/NAME/VERSION/model.onnx      the exported model, stored as opaque bytes
//	models/NAME/VERSION/metadata.json   VersionMetadata
//	models/NAME/VERSION/report/...      the training report files
//	models/NAME/VERSION/shadow.json     ShadowSummary: the candidate's shadow evaluation on live traffic
//	models/NAME/current.json            Pointer: the version being served
//	models/NAME/candidate.json          CandidatePointer: the version under shadow evaluation, the last decision
//	models/NAME/labels/BUCKET/KEY/ETAG.json  ScoredLabel: serve scored the label object BUCKET/KEY (a trimap)
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
//   - candidate.json and shadow.json are written by the same compare-and-swap (updateJSON): replicas merge their
//     shadow figures into shadow.json without losing updates, and exactly one replica's decision on a candidate
//     (Resolve) or on rolling a promoted version back (RollbackFrom, after a compare-and-swap on shadow.json)
//     takes effect.
package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"go.uber.org/zap"

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
	// StatusRejected marks a version that failed the quality gate, was rejected after shadow evaluation or
	// was rolled back; VersionMetadata.Reason says why.
	StatusRejected = "rejected"
	// StatusShadow marks a version that passed the quality gate and was proposed as the candidate
	// (candidate.json) instead of being made current: serve evaluates it on live traffic first.
	StatusShadow = "shadow"
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
	// ErrNoSummary reports a version without shadow.json.
	ErrNoSummary = errors.New("registry: no shadow summary")
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

// String names the registry by its bucket and model name: BUCKET/NAME.
func (r *Registry) String() string { return r.bucket + "/" + r.name }

// VersionMetadata is the content of a version's metadata.json.
type VersionMetadata struct {
	// Version is the version this file describes; it is set by the registry on upload.
	Version string `json:"version"`
	// Parent is the version that was current when this one was published (what the gate compared it with);
	// empty for the first version.
	Parent string `json:"parent,omitempty"`
	// Status is StatusCandidate, StatusShadow, StatusPublished or StatusRejected.
	Status string `json:"status"`
	// Reason is the quality gate's verdict: why the version was rejected, or why it was published.
	Reason string `json:"reason,omitempty"`
	// NoAutoPromote marks a version that serve rolled back: the lifecycle policy never promotes it again
	// (an operator still may).
	NoAutoPromote bool `json:"no_auto_promote,omitempty"`
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
