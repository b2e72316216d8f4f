package consumer

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrInvalidAllowList is wrapped by the errors of ParseAllowList, AllowList.Set
// and NewFilter.
var ErrInvalidAllowList = errors.New("invalid allow list")

// AllowList is the set of sources the pipeline may read: whole buckets
// ("bucket") or key prefixes within a bucket ("bucket/prefix"). Prefixes
// match as S3 prefixes do, byte for byte: "photos/cats" allows
// "photos/cats/1.jpg" and "photos/cats-old.jpg"; write "photos/cats/" to
// allow the folder only. The zero value allows nothing.
//
// *AllowList implements flag.Value, so it can back the --allow flag directly;
// each Set adds entries.
type AllowList struct {
	entries []allowEntry
}

type allowEntry struct {
	bucket, prefix string
}

func (e allowEntry) String() string {
	if e.prefix == "" {
		return e.bucket
	}
	return e.bucket + "/" + e.prefix
}

// ParseAllowList parses a comma-separated list of "bucket" and
// "bucket/prefix" entries (an "s3://" scheme is accepted and dropped). It
// fails on an empty list, an empty entry or an invalid bucket name.
func ParseAllowList(s string) (AllowList, error) {
	var a AllowList
	if err := a.Set(s); err != nil {
		return AllowList{}, err
	}
	return a, nil
}

// Set adds the entries of a comma-separated list; it implements flag.Value.
func (a *AllowList) Set(s string) error {
	if strings.TrimSpace(s) == "" {
		return fmt.Errorf("%w: no entries", ErrInvalidAllowList)
	}
	var added []allowEntry
	for raw := range strings.SplitSeq(s, ",") {
		item := strings.TrimPrefix(strings.TrimSpace(raw), "s3://")
		if item == "" {
			return fmt.Errorf("%w: empty entry in %q", ErrInvalidAllowList, s)
		}
		bucket, prefix, _ := strings.Cut(item, "/")
		if err := validateBucket(bucket); err != nil {
			return fmt.Errorf("%w: entry %q: %w", ErrInvalidAllowList, item, err)
		}
		if strings.ContainsFunc(prefix, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			return fmt.Errorf("%w: entry %q: prefix has a control character", ErrInvalidAllowList, item)
		}
		added = append(added, allowEntry{bucket: bucket, prefix: prefix})
	}
	a.entries = append(a.entries, added...)
	return nil
}

// String returns the entries as a comma-separated list; it implements
// flag.Value.
func (a *AllowList) String() string {
	if a == nil {
		return ""
	}
	parts := make([]string, len(a.entries))
	for i, e := range a.entries {
		parts[i] = e.String()
	}
	return strings.Join(parts, ",")
}

// Len returns the number of entries.
func (a AllowList) Len() int { return len(a.entries) }

// Buckets returns the buckets of the list's entries, sorted, each once.
func (a AllowList) Buckets() []string {
	var out []string
	for _, e := range a.entries {
		out = append(out, e.bucket)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Allows reports whether the object bucket/key lies inside an entry.
func (a AllowList) Allows(bucket, key string) bool {
	for _, e := range a.entries {
		if e.bucket == bucket && strings.HasPrefix(key, e.prefix) {
			return true
		}
	}
	return false
}

// Filter decides which references the pipeline processes: those the allow
// list admits, except the pipeline's own outputs, so that a mask written into
// a watched bucket never triggers processing again.
type Filter struct {
	allow        AllowList
	outputBucket string
	outputPrefix string
}

// NewFilter returns the filter for an allow list and the output location.
// An empty outputBucket means "the source bucket" (outputs are written next
// to their inputs), in which case outputPrefix must not be empty. It fails
// when the allow list is empty or when an allow entry lies wholly inside the
// output location (it could never yield work).
func NewFilter(allow AllowList, outputBucket, outputPrefix string) (*Filter, error) {
	if allow.Len() == 0 {
		return nil, fmt.Errorf("%w: no entries", ErrInvalidAllowList)
	}
	if outputBucket == "" && outputPrefix == "" {
		return nil, fmt.Errorf("%w: outputs written into the source bucket need an output prefix", ErrInvalidAllowList)
	}
	if outputBucket != "" {
		if err := validateBucket(outputBucket); err != nil {
			return nil, fmt.Errorf("%w: output bucket: %w", ErrInvalidAllowList, err)
		}
	}
	f := &Filter{allow: allow, outputBucket: outputBucket, outputPrefix: outputPrefix}
	for _, e := range allow.entries {
		if (outputBucket == "" || outputBucket == e.bucket) && strings.HasPrefix(e.prefix, outputPrefix) {
			return nil, fmt.Errorf("%w: entry %q lies inside the output location %s", ErrInvalidAllowList, e, f.outputLocation())
		}
	}
	return f, nil
}

// IsOutput reports whether bucket/key is where the pipeline writes outputs.
func (f *Filter) IsOutput(bucket, key string) bool {
	return (f.outputBucket == "" || f.outputBucket == bucket) && strings.HasPrefix(key, f.outputPrefix)
}

// Check returns nil when ref is to be processed, and otherwise a
// *MessageError: ErrIgnored for the pipeline's own outputs, ErrNotAllowed for
// objects outside the allow list.
func (f *Filter) Check(ref ImageRef) error {
	if f.IsOutput(ref.Bucket, ref.Key) {
		return newMessageError(ErrIgnored, nil, "object %s is a pipeline output (%s)", excerpt(ref.String()), f.outputLocation())
	}
	if !f.allow.Allows(ref.Bucket, ref.Key) {
		return newMessageError(ErrNotAllowed, nil, "object %s is outside the allow list", excerpt(ref.String()))
	}
	return nil
}

func (f *Filter) outputLocation() string {
	bucket := f.outputBucket
	if bucket == "" {
		bucket = "<source bucket>"
	}
	return bucket + "/" + f.outputPrefix + "*"
}
