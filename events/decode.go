package events

import (
	"encoding/json"
	"fmt"
)

// DecodeResult decodes the value of a result message and validates it: an
// event that is not JSON or breaks the contract returns an error wrapping
// ErrInvalidEvent.
func DecodeResult(value []byte) (ResultEvent, error) {
	var e ResultEvent
	if err := json.Unmarshal(value, &e); err != nil {
		return ResultEvent{}, fmt.Errorf("%w: result: %w", ErrInvalidEvent, err)
	}
	return e, e.Validate()
}

// DecodeDeadLetter decodes the value of a dead-letter message and validates
// it: an event that is not JSON or breaks the contract returns an error
// wrapping ErrInvalidEvent.
func DecodeDeadLetter(value []byte) (DeadLetterEvent, error) {
	var e DeadLetterEvent
	if err := json.Unmarshal(value, &e); err != nil {
		return DeadLetterEvent{}, fmt.Errorf("%w: dead letter: %w", ErrInvalidEvent, err)
	}
	return e, e.Validate()
}
