package events

import (
	"strconv"

	"github.com/google/uuid"
)

// namespace is the UUID namespace of vitseg's deterministic event IDs.
var namespace = uuid.MustParse("5f0c6f3e-2d3b-5a8e-9c61-7a1d2e4b9f00")

// ResultEventID returns the deterministic event ID of the result for source
// (identified by bucket, key and ETag) under model: processing the same
// object version with the same model again yields the same ID, so consumers
// can drop the duplicates that at-least-once delivery produces.
func ResultEventID(source Source, model ModelRef) string {
	return uuid.NewSHA1(namespace, idInput("result", source.Bucket, source.Key, source.ETag, model.Name, model.Version)).String()
}

// ObjectVersion is the object a reference of an input message named: its
// bucket and key, and the ETag the reference announced ("" when it did
// not, as plain references).
type ObjectVersion struct {
	Bucket, Key, ETag string
}

// DeadLetterEventID returns the deterministic event ID of a dead letter for
// the original message at topic/partition/offset: about the message as a
// whole when object is nil (it could not be parsed, or named nothing usable),
// else about the one object version it referenced. Each reference of a
// multi-record message has its own ID; two records naming the same object
// version share one (one event, as for results); a redelivery of the message
// reproduces them all.
func DeadLetterEventID(topic string, partition int, offset int64, object *ObjectVersion) string {
	parts := []string{"deadletter", topic, strconv.Itoa(partition), strconv.FormatInt(offset, 10)}
	if object != nil {
		parts = append(parts, "object", object.Bucket, object.Key, object.ETag)
	}
	return uuid.NewSHA1(namespace, idInput(parts...)).String()
}

// idInput joins the parts length-prefixed, so that no two part lists collide.
func idInput(parts ...string) []byte {
	var b []byte
	for _, p := range parts {
		b = strconv.AppendInt(b, int64(len(p)), 10)
		b = append(b, ':')
		b = append(b, p...)
	}
	return b
}
