// Package producer is the output side of the vitseg pipeline: the result and
// dead-letter events, their versioned JSON Schemas (ResultSchema,
// DeadLetterSchema, published under producer/schema/), and the Writer that
// publishes them to Kafka synchronously, so that input offsets are committed
// only after the events they produced are stored.
package producer
