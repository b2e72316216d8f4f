package imaging

import (
	"errors"
	"fmt"
)

// Kind classifies why an input was refused. Every Kind is a property of the
// input bytes, so retrying the same input never helps: callers typically send
// such inputs to a dead-letter queue.
type Kind uint8

// The kinds of input error reported by Decode and DecodeMaskPNG.
const (
	// KindEmpty: the input had no bytes at all.
	KindEmpty Kind = iota + 1
	// KindTooLarge: the input had more bytes than Limits.MaxBytes.
	KindTooLarge
	// KindTooManyPixels: the header declares more than Limits.MaxPixels
	// pixels (a likely decompression bomb).
	KindTooManyPixels
	// KindUnknownFormat: the magic bytes are not those of a supported format.
	KindUnknownFormat
	// KindCorrupt: the format was recognised but the data is malformed,
	// truncated, declares zero dimensions, or made a decoder fail.
	KindCorrupt
)

// String returns the kind in lower-case words, e.g. "too many pixels".
func (k Kind) String() string {
	switch k {
	case KindEmpty:
		return "empty"
	case KindTooLarge:
		return "too large"
	case KindTooManyPixels:
		return "too many pixels"
	case KindUnknownFormat:
		return "unknown format"
	case KindCorrupt:
		return "corrupt"
	default:
		return fmt.Sprintf("Kind(%d)", uint8(k))
	}
}

// Sentinel errors, one per Kind, for use with errors.Is:
//
//	if errors.Is(err, imaging.ErrTooManyPixels) { ... }
var (
	ErrEmpty         = errors.New("imaging: empty input")
	ErrTooLarge      = errors.New("imaging: input too large")
	ErrTooManyPixels = errors.New("imaging: too many pixels")
	ErrUnknownFormat = errors.New("imaging: unknown image format")
	ErrCorrupt       = errors.New("imaging: corrupt image")
)

// sentinel returns the sentinel error matching k, or nil.
func (k Kind) sentinel() error {
	switch k {
	case KindEmpty:
		return ErrEmpty
	case KindTooLarge:
		return ErrTooLarge
	case KindTooManyPixels:
		return ErrTooManyPixels
	case KindUnknownFormat:
		return ErrUnknownFormat
	case KindCorrupt:
		return ErrCorrupt
	default:
		return nil
	}
}

// Error is the error returned for inputs that cannot be accepted. Use
// errors.As to read its Kind, or errors.Is with the sentinel of the kind
// (ErrTooLarge, ...). Err, when set, is the underlying cause (for example the
// standard decoder's error) and is reachable through errors.Is/As too.
type Error struct {
	Kind Kind
	Msg  string // detail, safe to log: it never quotes the input bytes verbatim
	Err  error  // underlying cause, may be nil
}

// Error implements error.
func (e *Error) Error() string {
	s := "imaging: " + e.Kind.String()
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is the sentinel of e's Kind.
func (e *Error) Is(target error) bool {
	s := e.Kind.sentinel()
	return s != nil && target == s
}

func newError(k Kind, cause error, format string, args ...any) *Error {
	return &Error{Kind: k, Msg: fmt.Sprintf(format, args...), Err: cause}
}
