package producer

import (
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/segmentio/kafka-go"
)

// SchemaVersion is the schema_version of the events this package writes.
const SchemaVersion = 1

// Limits applied to dead-letter events so that one always fits in a Kafka
// message.
const (
	// MaxPayloadBytes is the most bytes of an original message's value (and
	// of each key and header value) copied into a dead-letter event.
	MaxPayloadBytes = 64 << 10
	// MaxOriginalBytes is the most bytes of an original message copied into
	// a dead-letter event in all: the value first, then the key, then the
	// header values in order, each also bounded by MaxPayloadBytes. Together
	// with MaxHeaderKeyBytes and the encoding rule of payloads it keeps
	// every dead-letter event well under Kafka's default 1 MB message limit,
	// whatever the original message holds.
	MaxOriginalBytes = 256 << 10
	// MaxHeaderKeyBytes is the longest original header key kept.
	MaxHeaderKeyBytes = 256
	// MaxReasonBytes is the longest reason kept in a dead-letter event.
	MaxReasonBytes = 1024
	// MaxHeaders is the most original headers copied into a dead-letter event.
	MaxHeaders = 32
)

// fractionTolerance is how far the class fractions may sum from 1.
const fractionTolerance = 1e-3

// ErrInvalidEvent is wrapped by the errors of the events' Validate methods.
var ErrInvalidEvent = errors.New("invalid event")

// namespace is the UUID namespace of vitseg's deterministic event IDs.
var namespace = uuid.MustParse("5f0c6f3e-2d3b-5a8e-9c61-7a1d2e4b9f00")

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
	// KeyForm is how Key was made from the source key (see pipeline.MaskKey).
	KeyForm MaskKeyForm `json:"key_form,omitempty"`
}

// Object returns the mask's bucket and key.
func (m MaskRef) Object() ObjectRef { return ObjectRef{Bucket: m.Bucket, Key: m.Key} }

// MaskKeyForm is how a mask key was made from its source key.
type MaskKeyForm string

// The mask key forms.
const (
	// MaskKeyDerived: PREFIX/SOURCEKEY.ETAG.VERSION.mask.png.
	MaskKeyDerived MaskKeyForm = "derived"
	// MaskKeyBounded: PREFIX/READABLE~SHA256.mask.png, used when the derived key would not be a legal S3 key;
	// the mask's object metadata holds the source key's SHA-256.
	MaskKeyBounded MaskKeyForm = "bounded"
)

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

// ResultEventID returns the deterministic event ID of the result for source
// (identified by bucket, key and ETag) under model: processing the same
// object version with the same model again yields the same ID, so consumers
// can drop the duplicates that at-least-once delivery produces.
func ResultEventID(source Source, model ModelRef) string {
	return uuid.NewSHA1(namespace, idInput("result", source.Bucket, source.Key, source.ETag, model.Name, model.Version)).String()
}

// ObjectVersion is the object a reference of an input message named: its
// bucket and key, and the ETag the reference announced ("" when it did
// not, as plain references).
type ObjectVersion struct {
	Bucket, Key, ETag string
}

// DeadLetterEventID returns the deterministic event ID of a dead letter for
// the original message at topic/partition/offset: about the message as a
// whole when object is nil (it could not be parsed, or named nothing usable),
// else about the one object version it referenced. Each reference of a
// multi-record message has its own ID; two records naming the same object
// version share one (one event, as for results); a redelivery of the message
// reproduces them all.
func DeadLetterEventID(topic string, partition int, offset int64, object *ObjectVersion) string {
	parts := []string{"deadletter", topic, strconv.Itoa(partition), strconv.FormatInt(offset, 10)}
	if object != nil {
		parts = append(parts, "object", object.Bucket, object.Key, object.ETag)
	}
	return uuid.NewSHA1(namespace, idInput(parts...)).String()
}

// idInput joins the parts length-prefixed, so that no two part lists collide.
func idInput(parts ...string) []byte {
	var b []byte
	for _, p := range parts {
		b = strconv.AppendInt(b, int64(len(p)), 10)
		b = append(b, ':')
		b = append(b, p...)
	}
	return b
}

// problems collects the invariants an event breaks, for Validate.
type problems []error

func (p *problems) add(format string, args ...any) { *p = append(*p, fmt.Errorf(format, args...)) }

// envelope checks the fields every event carries.
func (p *problems) envelope(schemaVersion int, eventID string) {
	if schemaVersion != SchemaVersion {
		p.add("schema_version is %d, want %d", schemaVersion, SchemaVersion)
	}
	if _, err := uuid.Parse(eventID); err != nil {
		p.add("event_id %q is not a UUID", eventID)
	}
}

// err is nil when there are no problems, else ErrInvalidEvent with all of them for an event of the kind.
func (p problems) err(kind string) error {
	if len(p) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s: %w", ErrInvalidEvent, kind, errors.Join(p...))
}

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

// ErrorClass classifies why a message was dead-lettered.
type ErrorClass string

// The error classes of dead-letter events.
const (
	// ClassMalformedMessage: the input message is not a valid image reference.
	ClassMalformedMessage ErrorClass = "malformed_message"
	// ClassNotAllowed: the referenced object is outside the allow list.
	ClassNotAllowed ErrorClass = "not_allowed"
	// ClassBadImage: the object is not a decodable image.
	ClassBadImage ErrorClass = "bad_image"
	// ClassMissingObject: the object does not exist (any more).
	ClassMissingObject ErrorClass = "missing_object"
	// ClassTooLarge: the object or the image exceeds the configured limits.
	ClassTooLarge ErrorClass = "too_large"
	// ClassInternal: processing failed for a reason that is not the input's.
	ClassInternal ErrorClass = "internal"
	// ClassRetriesExhausted: a call kept failing for this item while the same dependency served others, past
	// the retry budget.
	ClassRetriesExhausted ErrorClass = "retries_exhausted"
	// ClassAttemptsExhausted: the reference was replayed more often than the
	// pipeline's attempt limit allows; it is not tried again.
	ClassAttemptsExhausted ErrorClass = "attempts_exhausted"
	// ClassExpired: the reference was older than the pipeline's deadline when
	// it was consumed.
	ClassExpired ErrorClass = "expired"
)

// ErrorClasses lists every ErrorClass.
func ErrorClasses() []ErrorClass {
	return []ErrorClass{ClassMalformedMessage, ClassNotAllowed, ClassBadImage, ClassMissingObject, ClassTooLarge, ClassInternal,
		ClassRetriesExhausted, ClassAttemptsExhausted, ClassExpired}
}

// Valid reports whether c is one of the defined classes.
func (c ErrorClass) Valid() bool {
	for _, k := range ErrorClasses() {
		if c == k {
			return true
		}
	}
	return false
}

// DeadLetterEvent records an input message that could not be processed. Its
// JSON form is described by DeadLetterSchema.
type DeadLetterEvent struct {
	SchemaVersion int             `json:"schema_version"`
	EventID       string          `json:"event_id"`
	Original      OriginalMessage `json:"original"`
	ErrorClass    ErrorClass      `json:"error_class"`
	// Reason is a short explanation, at most MaxReasonBytes.
	Reason string `json:"reason"`
	// Source is the referenced object, when the message could be parsed.
	Source   *ObjectRef `json:"source,omitempty"`
	FailedAt time.Time  `json:"failed_at"`
}

// OriginalMessage is the dead-lettered input message.
type OriginalMessage struct {
	Topic     string `json:"topic"`
	Partition int    `json:"partition"`
	Offset    int64  `json:"offset"`
	// Key is nil (JSON null) when the message had no key.
	Key     *Payload `json:"key"`
	Value   Payload  `json:"value"`
	Headers []Header `json:"headers"`
}

// Payload carries bytes of an original message: as text when they are UTF-8,
// base64-encoded otherwise, cut to MaxPayloadBytes.
type Payload struct {
	// Encoding is "utf8" or "base64".
	Encoding string `json:"encoding"`
	// Data is the bytes, as Encoding says.
	Data string `json:"data"`
	// Size is the length of the original bytes.
	Size int `json:"size"`
	// Truncated is true when Data holds only a prefix of the bytes.
	Truncated bool `json:"truncated"`
}

// Payload encodings.
const (
	EncodingUTF8   = "utf8"
	EncodingBase64 = "base64"
)

// newPayload encodes b, keeping at most limit bytes of it: as text when it
// is valid UTF-8 whose JSON \u escapes do not grow it by more than a third,
// else as base64 (so the encoded payload is at most a little over twice the
// bytes kept, never six times).
func newPayload(b []byte, limit int) Payload {
	p := Payload{Size: len(b)}
	if len(b) > limit {
		b, p.Truncated = b[:limit], true
	}
	if text := trimPartialRune(b, p.Truncated); utf8.Valid(text) && !escapeHeavy(text) {
		p.Encoding, p.Data = EncodingUTF8, string(text)
		return p
	}
	p.Encoding, p.Data = EncodingBase64, base64.StdEncoding.EncodeToString(b)
	return p
}

// escapeHeavy reports whether the six-byte \u escapes of encoding/json
// (control characters other than \n, \r and \t, '<', '>', '&', U+2028 and
// U+2029) would grow text by more than a third. Base64 grows data by a third.
func escapeHeavy(text []byte) bool {
	extra := 0
	for i, c := range text {
		switch {
		case c == '\n' || c == '\r' || c == '\t':
		case c < 0x20 || c == '<' || c == '>' || c == '&':
			extra += 5
		case c == 0xe2 && i+2 < len(text) && text[i+1] == 0x80 && (text[i+2] == 0xa8 || text[i+2] == 0xa9):
			extra += 3
		}
	}
	return 3*extra > len(text)
}

// trimPartialRune drops an incomplete UTF-8 sequence that a cut left at the
// end of b.
func trimPartialRune(b []byte, cut bool) []byte {
	if !cut {
		return b
	}
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				return b[:i]
			}
			break
		}
	}
	return b
}

// Bytes returns the bytes Data holds (the prefix when Truncated).
func (p Payload) Bytes() ([]byte, error) {
	switch p.Encoding {
	case EncodingUTF8:
		return []byte(p.Data), nil
	case EncodingBase64:
		return base64.StdEncoding.DecodeString(p.Data)
	default:
		return nil, fmt.Errorf("%w: unknown payload encoding %q", ErrInvalidEvent, p.Encoding)
	}
}

// Header is a header of an original message.
type Header struct {
	Key   string  `json:"key"`
	Value Payload `json:"value"`
}

// NewOriginal copies msg: each payload bounded by MaxPayloadBytes and encoded as text or base64, all
// of them by MaxOriginalBytes, at most MaxHeaders headers, header keys cut to
// MaxHeaderKeyBytes.
func NewOriginal(msg kafka.Message) OriginalMessage {
	o := OriginalMessage{
		Topic:     msg.Topic,
		Partition: msg.Partition,
		Offset:    msg.Offset,
		Headers:   make([]Header, 0, min(len(msg.Headers), MaxHeaders)),
	}
	budget := MaxOriginalBytes
	take := func(b []byte) Payload {
		limit := min(MaxPayloadBytes, budget)
		budget -= min(len(b), limit)
		return newPayload(b, limit)
	}
	o.Value = take(msg.Value)
	if msg.Key != nil {
		k := take(msg.Key)
		o.Key = &k
	}
	for _, h := range msg.Headers[:min(len(msg.Headers), MaxHeaders)] {
		o.Headers = append(o.Headers, Header{Key: truncateUTF8(h.Key, MaxHeaderKeyBytes), Value: take(h.Value)})
	}
	return o
}

// NewDeadLetter returns the dead-letter event for msg, failed at now with
// class and reason (cut to MaxReasonBytes), about the object version object
// (its bucket and key are the event's source), or about the message as a
// whole when object is nil. The event ID is DeadLetterEventID's.
func NewDeadLetter(msg kafka.Message, class ErrorClass, reason string, object *ObjectVersion, now time.Time) DeadLetterEvent {
	var source *ObjectRef
	if object != nil {
		source = &ObjectRef{Bucket: object.Bucket, Key: object.Key}
	}
	return DeadLetterEvent{
		SchemaVersion: SchemaVersion,
		EventID:       DeadLetterEventID(msg.Topic, msg.Partition, msg.Offset, object),
		Original:      NewOriginal(msg),
		ErrorClass:    class,
		Reason:        truncateUTF8(reason, MaxReasonBytes),
		Source:        source,
		FailedAt:      now.UTC(),
	}
}

func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return string(trimPartialRune([]byte(s[:n]), true))
}

// Validate checks the invariants the JSON Schema states.
func (e DeadLetterEvent) Validate() error {
	var p problems
	p.envelope(e.SchemaVersion, e.EventID)
	o := e.Original
	if o.Topic == "" || o.Partition < 0 || o.Offset < 0 {
		p.add("original topic/partition/offset %q/%d/%d is not a message position", o.Topic, o.Partition, o.Offset)
	}
	payloads := []Payload{o.Value}
	if o.Key != nil {
		payloads = append(payloads, *o.Key)
	}
	if len(o.Headers) > MaxHeaders {
		p.add("original has %d headers, over %d", len(o.Headers), MaxHeaders)
	}
	for _, h := range o.Headers {
		payloads = append(payloads, h.Value)
	}
	for _, pl := range payloads {
		if err := pl.validate(); err != nil {
			p.add("original payload: %w", err)
		}
	}
	if !e.ErrorClass.Valid() {
		p.add("error_class %q is not one of %v", e.ErrorClass, ErrorClasses())
	}
	if e.Reason == "" || len(e.Reason) > MaxReasonBytes {
		p.add("reason must be 1 to %d bytes, is %d", MaxReasonBytes, len(e.Reason))
	}
	if e.Source != nil && (e.Source.Bucket == "" || e.Source.Key == "") {
		p.add("source, when present, needs a bucket and a key")
	}
	if e.FailedAt.IsZero() {
		p.add("failed_at is not set")
	}
	return p.err("dead letter")
}

func (p Payload) validate() error {
	if p.Encoding != EncodingUTF8 && p.Encoding != EncodingBase64 {
		return fmt.Errorf("encoding %q is not utf8 or base64", p.Encoding)
	}
	if p.Size < 0 {
		return fmt.Errorf("size %d is negative", p.Size)
	}
	b, err := p.Bytes()
	if err != nil {
		return err
	}
	if len(b) > MaxPayloadBytes {
		return fmt.Errorf("data holds %d bytes, over %d", len(b), MaxPayloadBytes)
	}
	return nil
}
