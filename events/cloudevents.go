package events

import (
	"time"

	"github.com/segmentio/kafka-go"
)

// CloudEvents 1.0 attributes of vitseg's events, in the binary content mode
// of the CloudEvents Kafka protocol binding: every attribute is a
// "ce_"-prefixed header holding its value as a UTF-8 string, the
// datacontenttype is the HeaderContentType header, and the message value is
// the event's JSON body, unchanged.
const (
	// CESpecVersion is the CloudEvents specification version.
	CESpecVersion = "1.0"
	// TypeResult is the ce_type of result events.
	TypeResult = "io.vitseg.segmentation.result.v1"
	// TypeDeadLetter is the ce_type of dead-letter events.
	TypeDeadLetter = "io.vitseg.segmentation.deadletter.v1"
	// DefaultEventSource is the ce_source of vitseg's events unless
	// configured otherwise.
	DefaultEventSource = "/vitseg"
)

// Header names of the CloudEvents attributes.
const (
	HeaderCESpecVersion = "ce_specversion"
	HeaderCEID          = "ce_id"
	HeaderCESource      = "ce_source"
	HeaderCEType        = "ce_type"
	HeaderCETime        = "ce_time"
	HeaderCESubject     = "ce_subject"
	HeaderCEDataSchema  = "ce_dataschema"
)

// Headers returns the headers of e's message, published by source (the
// ce_source): content-type, the CloudEvents attributes (ce_subject is the
// source object) and HeaderSchema.
func (e ResultEvent) Headers(source string) []kafka.Header {
	return ceAttributes{id: e.EventID, source: source, typ: TypeResult, time: e.ProcessedAt,
		subject: e.Source.Bucket + "/" + e.Source.Key, dataSchema: ResultSchemaID}.headers(ResultSchemaName)
}

// Headers returns the headers of e's message, published by source (the
// ce_source): content-type, the CloudEvents attributes (ce_subject is the
// referenced object, when known) and HeaderSchema.
func (e DeadLetterEvent) Headers(source string) []kafka.Header {
	a := ceAttributes{id: e.EventID, source: source, typ: TypeDeadLetter, time: e.FailedAt, dataSchema: DeadLetterSchemaID}
	if e.Source != nil {
		a.subject = e.Source.Bucket + "/" + e.Source.Key
	}
	return a.headers(DeadLetterSchemaName)
}

// ceAttributes are the CloudEvents attributes of one event message.
type ceAttributes struct {
	id, source, typ, subject, dataSchema string
	time                                 time.Time
}

// headers returns the binary-mode headers of a: content-type (the
// datacontenttype), the ce_ attributes, ce_subject only when set, and
// HeaderSchema naming schema.
func (a ceAttributes) headers(schema string) []kafka.Header {
	h := []kafka.Header{
		{Key: HeaderContentType, Value: []byte("application/json")},
		{Key: HeaderCESpecVersion, Value: []byte(CESpecVersion)},
		{Key: HeaderCEID, Value: []byte(a.id)},
		{Key: HeaderCESource, Value: []byte(a.source)},
		{Key: HeaderCEType, Value: []byte(a.typ)},
		{Key: HeaderCETime, Value: []byte(a.time.UTC().Format(time.RFC3339Nano))},
		{Key: HeaderCEDataSchema, Value: []byte(a.dataSchema)},
	}
	if a.subject != "" {
		h = append(h, kafka.Header{Key: HeaderCESubject, Value: []byte(a.subject)})
	}
	return append(h, kafka.Header{Key: HeaderSchema, Value: []byte(schema)})
}
