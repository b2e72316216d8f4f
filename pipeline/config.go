package pipeline

import (
	"path"
	"strings"
	"time"

	"github.com/vitseg/vitseg/consumer"
	"github.com/vitseg/vitseg/model/imaging"
)

// Config tunes the pipeline. Zero values take the defaults of DefaultConfig.
type Config struct {
	// Allow lists the bucket/prefix locations whose objects are segmented (required). References elsewhere, and
	// the pipeline's own masks under OutputBucket/OutputPrefix, are skipped (consumer.Filter).
	Allow        consumer.AllowList
	OutputBucket string // where masks go; empty: the source object's bucket
	OutputPrefix string // key prefix of masks (default "masks/")
	MaxBatch     int    // dynamic batcher: most images per inference
	MaxWait      time.Duration
	// LatencyTarget, when set, is the p99 latency from an image's fetch to its event that the batcher keeps,
	// choosing each batch's size (up to MaxBatch) and wait from what it learns (latencypolicy.go); zero keeps
	// the fixed window of MaxBatch and MaxWait.
	LatencyTarget  time.Duration
	FetchWorkers   int
	DecodeWorkers  int
	WriteWorkers   int
	QueueSize      int // capacity of each inter-stage queue
	Limits         imaging.Limits
	DrainTimeout   time.Duration // graceful shutdown deadline
	CommitInterval time.Duration // how often finished offsets are committed
	RetryMin       time.Duration // backoff bounds for transient S3 and Kafka errors
	RetryMax       time.Duration
	// RetryBudget is how many failed attempts of one item's S3 or Kafka call are tolerated while the same
	// operation succeeds for other items and the dependency's probe passes; past it the item is dead-lettered
	// as retries_exhausted. Attempts during an outage are not counted. Negative: no bound.
	RetryBudget   int
	ProbeInterval time.Duration // readiness probes of S3 and Kafka
	MaxAttempts   int           // replays (events.HeaderAttempt) beyond this are dead-lettered attempts_exhausted
	MaxAge        time.Duration // references older than this are dead-lettered expired; 0: no deadline

	// Lifecycle is the shadow evaluation of the registry's candidate, automatic promotion and rollback
	// (lifecycle.go); off unless Lifecycle.ShadowFraction > 0 and the model comes from a registry.
	Lifecycle LifecycleConfig

	// IgnoreOrientation keeps images as stored instead of applying their EXIF orientation (serve
	// --exif-orientation=false); masks and event sizes then follow the stored pixels.
	IgnoreOrientation bool
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{OutputPrefix: "masks/", MaxBatch: 8, MaxWait: 20 * time.Millisecond, FetchWorkers: 8,
		DecodeWorkers: 2, WriteWorkers: 8, QueueSize: 64, Limits: imaging.DefaultLimits(),
		DrainTimeout: 30 * time.Second, CommitInterval: 200 * time.Millisecond,
		RetryMin: 100 * time.Millisecond, RetryMax: 5 * time.Second, RetryBudget: 10, ProbeInterval: 5 * time.Second,
		MaxAttempts: 3}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.OutputPrefix == "" {
		c.OutputPrefix = d.OutputPrefix
	}
	c.OutputPrefix = cleanPrefix(c.OutputPrefix)
	if c.RetryBudget == 0 {
		c.RetryBudget = d.RetryBudget
	}
	for _, f := range []struct{ v, def *int }{{&c.MaxBatch, &d.MaxBatch}, {&c.FetchWorkers, &d.FetchWorkers},
		{&c.DecodeWorkers, &d.DecodeWorkers}, {&c.WriteWorkers, &d.WriteWorkers}, {&c.QueueSize, &d.QueueSize},
		{&c.MaxAttempts, &d.MaxAttempts}} {
		orDefault(f.v, *f.def)
	}
	for _, f := range []struct{ v, def *time.Duration }{{&c.MaxWait, &d.MaxWait}, {&c.DrainTimeout, &d.DrainTimeout},
		{&c.CommitInterval, &d.CommitInterval}, {&c.RetryMin, &d.RetryMin}, {&c.RetryMax, &d.RetryMax},
		{&c.ProbeInterval, &d.ProbeInterval}} {
		orDefault(f.v, *f.def)
	}
	c.Limits = imaging.Limits{MaxBytes: c.Limits.MaxBytes, MaxPixels: c.Limits.MaxPixels}
	orDefault(&c.Limits.MaxBytes, d.Limits.MaxBytes)
	orDefault(&c.Limits.MaxPixels, d.Limits.MaxPixels)
	return c
}

// orDefault sets *v to def unless it is positive.
func orDefault[T int | int64 | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// cleanPrefix is prefix as the mask keys spell it (MaskKey joins and cleans paths): no leading "/" or "./", no
// empty segments, one trailing "/". The filter that skips the pipeline's own masks compares keys against this
// form: "./masks" and "masks/" must be the same location for both. A prefix that cleans to nothing stays "".
func cleanPrefix(prefix string) string {
	p := strings.TrimPrefix(path.Clean("/"+prefix), "/")
	if p == "" {
		return ""
	}
	return p + "/"
}
