// Package producer is the output side of the vitseg pipeline: the Writer that
// publishes result and dead-letter events (package events defines them, their
// JSON Schemas and headers) to Kafka synchronously, so that input offsets are
// committed only after the events they produced are stored.
package producer
