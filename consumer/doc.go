// Package consumer is the input side of the vitseg pipeline: it reads image
// references from a Kafka topic as a member of a consumer group and turns
// them into ImageRef values.
//
//   - ParseMessage accepts MinIO (or S3) bucket notifications and plain JSON
//     references, and rejects anything else with a *MessageError whose kind
//     (ErrMalformed, ErrInvalidReference, ErrNotAllowed, ErrIgnored) tells
//     the caller whether to dead-letter the message or merely skip it.
//   - Filter applies the --allow list and keeps the pipeline's own outputs
//     from triggering more work.
//   - Watermark lets messages finish out of order while committing only
//     offsets whose predecessors have all finished.
//   - Reader wraps kafka-go's consumer-group Reader with synchronous,
//     explicit commits.
package consumer
