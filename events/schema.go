package events

import "embed"

//go:embed schema/result-v1.json schema/deadletter-v1.json
var schemas embed.FS

// Schema identifiers, the "$id" of each published JSON Schema.
const (
	ResultSchemaID     = "urn:vitseg:schema:result-v1"
	DeadLetterSchemaID = "urn:vitseg:schema:deadletter-v1"
)

// Schema names, the value of an event message's HeaderSchema header.
const (
	ResultSchemaName     = "result-v1"
	DeadLetterSchemaName = "deadletter-v1"
)

// ResultSchema returns the JSON Schema (draft 2020-12) of ResultEvent,
// published as events/schema/result-v1.json.
func ResultSchema() []byte { return mustRead("schema/result-v1.json") }

// DeadLetterSchema returns the JSON Schema (draft 2020-12) of
// DeadLetterEvent, published as events/schema/deadletter-v1.json.
func DeadLetterSchema() []byte { return mustRead("schema/deadletter-v1.json") }

func mustRead(name string) []byte {
	b, err := schemas.ReadFile(name)
	if err != nil {
		panic("events: embedded schema missing: " + err.Error()) // the go:embed line guarantees it
	}
	return b
}
