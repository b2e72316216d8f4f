// Package pipeline is vitseg's stream processor: it consumes image references from Kafka, fetches the images
// from S3, segments them in dynamic batches with the ViT, writes the mask PNGs back to S3, produces result
// events, and commits input offsets only behind a watermark of fully finished messages (at-least-once: a
// message is committed only after its masks and events, or its dead-letter event, are durably written).
//
//	Kafka --fetch--> parse/filter --> S3 fetch pool --> decode pool --> batcher --> inference
//	       (commit watermark) <-- events <-- mask writers <---------------------------'
//
// Every queue between stages is bounded, so a slow stage (or an unreachable S3) pushes back up to the Kafka
// fetch. A new model version from the registry is swapped in between two batches.
package pipeline
