package consumer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/vitseg/vitseg/events"
)

// objectCreatedPrefixes are the event-name prefixes of object creations:
// MinIO writes "s3:ObjectCreated:Put", AWS S3 "ObjectCreated:Put".
var objectCreatedPrefixes = []string{"s3:ObjectCreated:", "ObjectCreated:"}

// ImageRef names one object to segment.
type ImageRef struct {
	// Bucket and Key locate the object; Key is decoded (never URL-encoded).
	Bucket, Key string
	// ETag is the object's entity tag without quotes; empty when the message
	// did not carry it (plain references).
	ETag string
	// Size is the object's size in bytes as announced; 0 when unknown.
	Size int64
	// ID is the reference's "id" (plain references) or the notification
	// record's s3.object.sequencer; empty when absent.
	ID string
	// EventName is the notification's event (e.g. "s3:ObjectCreated:Put");
	// empty for plain references.
	EventName string
}

// String returns "bucket/key".
func (r ImageRef) String() string { return r.Bucket + "/" + r.Key }

// skippedRecord is a notification record that asked for no work.
type skippedRecord struct {
	// Index is the record's position in the message's Records array.
	Index int
	// EventName is the record's eventName.
	EventName string
	// Reason says why the record was skipped.
	Reason string
}

// parsed is the content of one input message.
type parsed struct {
	// Refs are the objects to process, in message order.
	Refs []ImageRef
	// Skipped are the notification records that ask for no work.
	Skipped []skippedRecord
}

// ParseMessage returns the image references in one input message: a MinIO
// (or S3) bucket notification, whose ObjectCreated records each yield one
// reference and whose other records are skipped, or a plain JSON reference
// {"bucket": "...", "key": "...", "id": "..."} (id optional).
//
// A message that yields no reference returns a *MessageError: ErrIgnored when
// it only holds records that ask for no work, ErrMalformed or
// ErrInvalidReference otherwise. Any invalid ObjectCreated record rejects the
// whole message.
func ParseMessage(value []byte) ([]ImageRef, error) {
	p, err := parse(value)
	if err != nil {
		return nil, err
	}
	if len(p.Refs) == 0 {
		reasons := make([]string, 0, len(p.Skipped))
		for _, s := range p.Skipped {
			reasons = append(reasons, fmt.Sprintf("record %d: %s", s.Index, s.Reason))
		}
		return nil, newMessageError(ErrIgnored, nil, "no ObjectCreated records (%s)", strings.Join(reasons, "; "))
	}
	return p.Refs, nil
}

// parse is ParseMessage that also reports the skipped records; a message whose
// records are all skipped returns an empty Refs and no error.
func parse(value []byte) (parsed, error) {
	if len(bytes.TrimSpace(value)) == 0 {
		return parsed{}, newMessageError(ErrMalformed, nil, "empty message")
	}
	var fields map[string]json.RawMessage
	if err := decodeStrict(value, &fields); err != nil {
		return parsed{}, newMessageError(ErrMalformed, err, "not a JSON object")
	}
	switch {
	case has(fields, "Records"):
		return parseNotification(value)
	case has(fields, "bucket") || has(fields, "key"):
		ref, err := parsePlain(fields)
		if err != nil {
			return parsed{}, err
		}
		return parsed{Refs: []ImageRef{ref}}, nil
	case isTestEvent(fields):
		return parsed{}, newMessageError(ErrIgnored, nil, "s3:TestEvent")
	default:
		return parsed{}, newMessageError(ErrMalformed, nil,
			"unknown message shape: neither a bucket notification (Records) nor a reference (bucket, key)")
	}
}

func has(fields map[string]json.RawMessage, name string) bool {
	_, ok := fields[name]
	return ok
}

// decodeStrict decodes exactly one JSON value from data into v.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

func isTestEvent(fields map[string]json.RawMessage) bool {
	var ev string
	raw, ok := fields["Event"]
	return ok && json.Unmarshal(raw, &ev) == nil && ev == "s3:TestEvent"
}

// parsePlain reads {"bucket": ..., "key": ..., "id": ...}. Other fields are
// tolerated so that producers may add some.
func parsePlain(fields map[string]json.RawMessage) (ImageRef, error) {
	var plain events.Reference
	for _, f := range []struct {
		name string
		dst  *string
	}{{"bucket", &plain.Bucket}, {"key", &plain.Key}, {"id", &plain.ID}} {
		raw, ok := fields[f.name]
		if !ok || string(raw) == "null" {
			continue
		}
		if err := json.Unmarshal(raw, f.dst); err != nil {
			return ImageRef{}, newMessageError(ErrMalformed, nil, "reference field %q is not a string", f.name)
		}
	}
	if err := ValidateObject(plain.Bucket, plain.Key); err != nil {
		return ImageRef{}, err
	}
	if len(plain.ID) > events.MaxIDBytes {
		return ImageRef{}, newMessageError(ErrInvalidReference, nil, "id is %d bytes, over %d", len(plain.ID), events.MaxIDBytes)
	}
	return ImageRef{Bucket: plain.Bucket, Key: plain.Key, ID: plain.ID}, nil
}

// notification is the JSON a MinIO notification target sends (and, without
// the top-level fields, an S3 event notification).
type notification struct {
	EventName string   `json:"EventName"`
	Key       string   `json:"Key"`
	Records   []record `json:"Records"`
}

type record struct {
	EventName string    `json:"eventName"`
	S3        *s3Entity `json:"s3"`
}

type s3Entity struct {
	Bucket struct {
		Name string `json:"name"`
	} `json:"bucket"`
	Object struct {
		Key       string `json:"key"`
		Size      int64  `json:"size"`
		ETag      string `json:"eTag"`
		Sequencer string `json:"sequencer"`
	} `json:"object"`
}

func parseNotification(value []byte) (parsed, error) {
	var n notification
	if err := decodeStrict(value, &n); err != nil {
		return parsed{}, newMessageError(ErrMalformed, err, "bucket notification does not decode")
	}
	if len(n.Records) == 0 {
		return parsed{}, newMessageError(ErrMalformed, nil, "bucket notification has no records")
	}
	var p parsed
	for i, rec := range n.Records {
		if !isObjectCreated(rec.EventName) {
			reason := "event is not an object creation"
			if rec.EventName == "" {
				reason = "record has no eventName"
			}
			p.Skipped = append(p.Skipped, skippedRecord{Index: i, EventName: excerpt(rec.EventName), Reason: reason})
			continue
		}
		ref, err := recordRef(rec)
		if err != nil {
			var me *MessageError
			if errors.As(err, &me) {
				return parsed{}, &MessageError{Kind: me.Kind, Reason: fmt.Sprintf("record %d: %s", i, me.Reason), Err: me.Err}
			}
			return parsed{}, err
		}
		p.Refs = append(p.Refs, ref)
	}
	return p, nil
}

func isObjectCreated(eventName string) bool {
	for _, prefix := range objectCreatedPrefixes {
		if strings.HasPrefix(eventName, prefix) {
			return true
		}
	}
	return false
}

func recordRef(rec record) (ImageRef, error) {
	if rec.S3 == nil {
		return ImageRef{}, newMessageError(ErrMalformed, nil, "%s record has no s3 entity", excerpt(rec.EventName))
	}
	obj := rec.S3.Object
	key, err := url.QueryUnescape(obj.Key)
	if err != nil {
		return ImageRef{}, newMessageError(ErrInvalidReference, err, "object key %q is not URL-encoded", excerpt(obj.Key))
	}
	if obj.Size < 0 {
		return ImageRef{}, newMessageError(ErrMalformed, nil, "object size %d is negative", obj.Size)
	}
	if err := ValidateObject(rec.S3.Bucket.Name, key); err != nil {
		return ImageRef{}, err
	}
	return ImageRef{
		Bucket:    rec.S3.Bucket.Name,
		Key:       key,
		ETag:      strings.Trim(obj.ETag, `"`),
		Size:      obj.Size,
		ID:        boundedID(obj.Sequencer),
		EventName: rec.EventName,
	}, nil
}

// boundedID returns id, or "" when it is longer than events.MaxIDBytes.
func boundedID(id string) string {
	if len(id) > events.MaxIDBytes {
		return ""
	}
	return id
}

// ValidateObject checks that bucket and key name an object the pipeline may
// fetch: a valid S3 bucket name and a non-empty key of at most events.MaxKeyBytes of
// UTF-8 without control characters (NUL included) and without "." or ".."
// path segments. The error is a *MessageError of kind ErrInvalidReference.
func ValidateObject(bucket, key string) error {
	if err := validateBucket(bucket); err != nil {
		return err
	}
	return validateKey(key)
}

func validateBucket(bucket string) error {
	if bucket == "" {
		return newMessageError(ErrInvalidReference, nil, "empty bucket name")
	}
	if len(bucket) < 3 || len(bucket) > 63 {
		return newMessageError(ErrInvalidReference, nil, "bucket name %q is not 3 to 63 characters long", excerpt(bucket))
	}
	for i := 0; i < len(bucket); i++ {
		c := bucket[i]
		alnum := 'a' <= c && c <= 'z' || '0' <= c && c <= '9'
		if !alnum && c != '.' && c != '-' {
			return newMessageError(ErrInvalidReference, nil, "bucket name %q has a character other than a-z, 0-9, '.' and '-'", excerpt(bucket))
		}
		if !alnum && (i == 0 || i == len(bucket)-1) {
			return newMessageError(ErrInvalidReference, nil, "bucket name %q does not start and end with a letter or digit", bucket)
		}
	}
	if strings.Contains(bucket, "..") {
		return newMessageError(ErrInvalidReference, nil, "bucket name %q has consecutive dots", bucket)
	}
	return nil
}

func validateKey(key string) error {
	switch {
	case key == "":
		return newMessageError(ErrInvalidReference, nil, "empty object key")
	case len(key) > events.MaxKeyBytes:
		return newMessageError(ErrInvalidReference, nil, "object key is %d bytes, over %d", len(key), events.MaxKeyBytes)
	case !utf8.ValidString(key):
		return newMessageError(ErrInvalidReference, nil, "object key %q is not UTF-8", excerpt(key))
	}
	for _, r := range key {
		if r < 0x20 || r == 0x7f {
			what := "a control character"
			if r == 0 {
				what = "NUL"
			}
			return newMessageError(ErrInvalidReference, nil, "object key %q contains %s", excerpt(key), what)
		}
	}
	for seg := range strings.SplitSeq(key, "/") {
		if seg == "." || seg == ".." {
			return newMessageError(ErrInvalidReference, nil, "object key %q has a %q path segment", excerpt(key), seg)
		}
	}
	return nil
}
