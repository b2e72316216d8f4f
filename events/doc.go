// Package events is vitseg's wire contract: the result and dead-letter events
// it publishes, their error classes, deterministic ids, validation and
// versioned JSON Schemas (ResultSchema, DeadLetterSchema, published under
// events/schema/), the CloudEvents attributes and every Kafka header name its
// messages carry, the plain Reference an input message may hold, and where a
// mask goes (MaskKey).
//
// Decoders read events back as consumers should: DecodeResult and
// DecodeDeadLetter unmarshal and validate.
package events
