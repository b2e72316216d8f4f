package producer

import (
	"time"

	"github.com/segmentio/kafka-go"
)

// CloudEvents 1.0 attributes of the events this package writes, in the
// binary content mode of the CloudEvents Kafka protocol binding: every
// attribute is a "ce_"-prefixed header holding its value as a UTF-8 string,
// the datacontenttype is the "content-type" header, and the message value is
// the event's JSON body, unchanged.
const (
	// CESpecVersion is the CloudEvents specification version.
	CESpecVersion = "1.0"
	// TypeResult is the ce_type of result events.
	TypeResult = "io.vitseg.segmentation.result.v1"
	// TypeDeadLetter is the ce_type of dead-letter events.
	TypeDeadLetter = "io.vitseg.segmentation.deadletter.v1"
	// DefaultEventSource is the ce_source when WriterConfig.EventSource is empty.
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

// ceAttributes are the CloudEvents attributes of one event message.
type ceAttributes struct {
	id, source, typ, subject, dataSchema string
	time                                 time.Time
}

// headers returns the binary-mode headers of a: content-type (the
// datacontenttype), the ce_ attributes, and ce_subject only when set.
func (a ceAttributes) headers() []kafka.Header {
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
	return h
}

// resultAttributes are the CloudEvents attributes of e, published by source.
func resultAttributes(e ResultEvent, source string) ceAttributes {
	return ceAttributes{id: e.EventID, source: source, typ: TypeResult, time: e.ProcessedAt,
		subject: e.Source.Bucket + "/" + e.Source.Key, dataSchema: ResultSchemaID}
}

// deadLetterAttributes are the CloudEvents attributes of e, published by
// source; the subject is the referenced object, when known.
func deadLetterAttributes(e DeadLetterEvent, source string) ceAttributes {
	a := ceAttributes{id: e.EventID, source: source, typ: TypeDeadLetter, time: e.FailedAt, dataSchema: DeadLetterSchemaID}
	if e.Source != nil {
		a.subject = e.Source.Bucket + "/" + e.Source.Key
	}
	return a
}
