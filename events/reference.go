package events

// Limits on the references an input message may carry.
const (
	// MaxKeyBytes is the longest object key accepted, S3's own limit.
	MaxKeyBytes = 1024
	// MaxIDBytes is the longest reference id accepted.
	MaxIDBytes = 256
)

// Reference is the plain JSON reference that an input message may carry
// instead of a bucket notification: {"bucket": "...", "key": "...", "id":
// "..."}, id optional. `vitseg dlq replay` publishes them; package consumer
// parses them (and bucket notifications) into consumer.ImageRef.
type Reference struct {
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
	// ID identifies the reference to its sender; at most MaxIDBytes.
	ID string `json:"id,omitempty"`
}
