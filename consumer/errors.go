package consumer

import (
	"errors"
	"fmt"
)

// Kinds of message rejection. A *MessageError wraps exactly one of them, so
// callers branch with errors.Is.
var (
	// ErrMalformed: the message is not JSON, or is JSON of no known shape.
	// Such a message belongs on the dead-letter topic.
	ErrMalformed = errors.New("malformed message")
	// ErrInvalidReference: the message has a known shape but names an object
	// that must not be fetched (empty or invalid bucket, empty, over-long or
	// unsafe key). Such a message belongs on the dead-letter topic.
	ErrInvalidReference = errors.New("invalid object reference")
	// ErrNotAllowed: the object lies outside the allow list. Such a message
	// belongs on the dead-letter topic.
	ErrNotAllowed = errors.New("object not allowed")
	// ErrIgnored: the message asks for no work (a notification without
	// ObjectCreated records, a test event, an object the pipeline wrote
	// itself). It is not a failure: commit it and go on.
	ErrIgnored = errors.New("message ignored")
)

// MessageError is the error returned for a message that yields no work.
type MessageError struct {
	// Kind is ErrMalformed, ErrInvalidReference, ErrNotAllowed or ErrIgnored.
	Kind error
	// Reason is a short, single-line explanation meant for logs and for the
	// dead-letter event's reason field. It quotes at most a bounded excerpt
	// of the input.
	Reason string
	// Err is the underlying cause, if any (a JSON syntax error, say).
	Err error
}

// Error implements error.
func (e *MessageError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%v: %s: %v", e.Kind, e.Reason, e.Err)
	}
	return fmt.Sprintf("%v: %s", e.Kind, e.Reason)
}

// Unwrap exposes both the kind and the cause to errors.Is and errors.As.
func (e *MessageError) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

func newMessageError(kind error, cause error, format string, args ...any) *MessageError {
	return &MessageError{Kind: kind, Reason: fmt.Sprintf(format, args...), Err: cause}
}

// excerptLimit bounds how much of untrusted input a Reason quotes.
const excerptLimit = 80

// excerpt returns s, cut to excerptLimit bytes on a rune boundary, for quoting
// in a Reason with %q.
func excerpt(s string) string {
	if len(s) <= excerptLimit {
		return s
	}
	cut := excerptLimit
	for cut > 0 && !runeStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

func runeStart(b byte) bool { return b&0xC0 != 0x80 }
