package events

import (
	"errors"
	"fmt"

	"github.com/google/uuid"
)

// SchemaVersion is the schema_version of the events this package writes.
const SchemaVersion = 1

// ErrInvalidEvent is wrapped by the errors of the events' Validate methods.
var ErrInvalidEvent = errors.New("invalid event")

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
