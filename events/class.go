package events

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
