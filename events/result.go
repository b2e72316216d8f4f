package events

import (
	"math"
	"time"
)

// ResultEvent reports one segmented image. Its JSON form is described by
// ResultSchema.
type ResultEvent struct {
	SchemaVersion  int            `json:"schema_version"`
	EventID        string         `json:"event_id"`
	Source         Source         `json:"source"`
	Mask           MaskRef        `json:"mask"`
	Model          ModelRef       `json:"model"`
	Image          ImageSize      `json:"image"`
	ClassFractions ClassFractions `json:"class_fractions"`
	// PetBBox is the bounding box of the pet pixels; nil (JSON null) when
	// the mask holds none.
	PetBBox     *BBox     `json:"pet_bbox"`
	TimingsMS   Timings   `json:"timings_ms"`
	ProcessedAt time.Time `json:"processed_at"`
}

// Source is the object that was segmented.
type Source struct {
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
	// ETag is the object's entity tag, without quotes.
	ETag string `json:"etag"`
	// Size is the object's size in bytes.
	Size int64 `json:"size"`
}

// ObjectRef names an object.
type ObjectRef struct {
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
}

// MaskRef names the mask object of a result and how its key was made.
type MaskRef struct {
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
	// KeyForm is how Key was made from the source key (see events.MaskKey).
	KeyForm MaskKeyForm `json:"key_form,omitempty"`
}

// Object returns the mask's bucket and key.
func (m MaskRef) Object() ObjectRef { return ObjectRef{Bucket: m.Bucket, Key: m.Key} }

// ModelRef names the model that produced a mask.
type ModelRef struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// ImageSize is the decoded source image's size in pixels, as displayed
// (after its EXIF orientation).
type ImageSize struct {
	Width  int `json:"width"`
	Height int `json:"height"`
	// Orientation is the EXIF orientation (1..8) applied before
	// segmentation; 0 (omitted) when unknown.
	Orientation int `json:"orientation,omitempty"`
}

// ClassFractions are the fractions of the image's pixels in each trimap
// class; they sum to 1.
type ClassFractions struct {
	Pet        float64 `json:"pet"`
	Background float64 `json:"background"`
	Border     float64 `json:"border"`
}

// BBox is a box in source-image pixels: X0, Y0 inclusive, X1, Y1 exclusive.
type BBox struct {
	X0 int `json:"x0"`
	Y0 int `json:"y0"`
	X1 int `json:"x1"`
	Y1 int `json:"y1"`
}

// Timings are the stage durations of one image, in milliseconds.
type Timings struct {
	Queue  float64 `json:"queue"`
	Fetch  float64 `json:"fetch"`
	Decode float64 `json:"decode"`
	Infer  float64 `json:"infer"`
	Total  float64 `json:"total"`
}

// Millis converts a duration to the milliseconds of Timings.
func Millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// NewResult returns the result event of source segmented by model, its mask at mask, processed at
// processedAt: the schema version, the deterministic event ID and the UTC time are set here, once. The caller
// fills in the image size, class fractions, box and timings.
func NewResult(source Source, model ModelRef, mask MaskRef, processedAt time.Time) ResultEvent {
	return ResultEvent{SchemaVersion: SchemaVersion, EventID: ResultEventID(source, model), Source: source,
		Mask: mask, Model: model, ProcessedAt: processedAt.UTC()}
}

// fractionTolerance is how far the class fractions may sum from 1.
const fractionTolerance = 1e-3

// named is a number with its field name, for validation messages.
type named struct {
	name string
	v    float64
}

// Validate checks the invariants the JSON Schema states, and those it cannot
// (fractions summing to 1, the box inside the image).
func (e ResultEvent) Validate() error {
	var p problems
	p.envelope(e.SchemaVersion, e.EventID)
	if e.Source.Bucket == "" || e.Source.Key == "" {
		p.add("source bucket and key are required")
	}
	if e.Source.Size < 0 {
		p.add("source size %d is negative", e.Source.Size)
	}
	if e.Mask.Bucket == "" || e.Mask.Key == "" {
		p.add("mask bucket and key are required")
	}
	if f := e.Mask.KeyForm; f != "" && f != MaskKeyDerived && f != MaskKeyBounded {
		p.add("mask key_form %q is neither derived nor bounded", f)
	}
	if e.Model.Name == "" || e.Model.Version == "" {
		p.add("model name and version are required")
	}
	if e.Image.Width < 1 || e.Image.Height < 1 {
		p.add("image size %dx%d is not positive", e.Image.Width, e.Image.Height)
	}
	f := e.ClassFractions
	for _, c := range []named{{"pet", f.Pet}, {"background", f.Background}, {"border", f.Border}} {
		if !(c.v >= 0 && c.v <= 1) {
			p.add("class fraction %s = %v is outside [0, 1]", c.name, c.v)
		}
	}
	if sum := f.Pet + f.Background + f.Border; !(math.Abs(sum-1) <= fractionTolerance) {
		p.add("class fractions sum to %v, want 1", sum)
	}
	if b := e.PetBBox; b != nil {
		if b.X0 < 0 || b.Y0 < 0 || b.X1 <= b.X0 || b.Y1 <= b.Y0 || b.X1 > e.Image.Width || b.Y1 > e.Image.Height {
			p.add("pet_bbox %+v is not a non-empty box inside the %dx%d image", *b, e.Image.Width, e.Image.Height)
		}
	}
	t := e.TimingsMS
	for _, c := range []named{{"queue", t.Queue}, {"fetch", t.Fetch}, {"decode", t.Decode}, {"infer", t.Infer}, {"total", t.Total}} {
		if !(c.v >= 0) || math.IsInf(c.v, 0) {
			p.add("timings_ms.%s = %v is not a finite, non-negative number", c.name, c.v)
		}
	}
	if e.ProcessedAt.IsZero() {
		p.add("processed_at is not set")
	}
	return p.err("result")
}
