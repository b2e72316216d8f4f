package model

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/vitseg/vitseg/model/onnxfile"
)

// ErrNotVitseg reports an ONNX model without vitseg metadata.
var ErrNotVitseg = errors.New("not a vitseg model")

// MetadataKey is the ONNX metadata_props key under which Metadata is stored as JSON.
const MetadataKey = "vitseg.metadata"

// Tensor names of exported models.
const (
	InputName  = "images" // float32 [batch, in_channels, image_size, image_size], values in 0..1
	OutputName = "logits" // float32 [batch, classes, image_size, image_size]
	BatchAxis  = "batch"  // the symbolic leading dimension of input and output
)

// Metadata describes an exported model. It travels inside the ONNX file and, in the registry, next to it.
type Metadata struct {
	Name        string             `json:"name"`
	Version     string             `json:"version"`
	Preset      string             `json:"preset,omitempty"`
	Config      Config             `json:"config"`
	ClassNames  []string           `json:"class_names"`
	Params      int                `json:"params"`
	Metrics     map[string]float64 `json:"metrics,omitempty"`
	CreatedAt   time.Time          `json:"created_at"`
	CodeVersion string             `json:"code_version,omitempty"`
}

// MarshalMetadata encodes m for the metadata_props entry.
func MarshalMetadata(m Metadata) (string, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return "", fmt.Errorf("encode model metadata: %w", err)
	}
	return string(b), nil
}

// UnmarshalMetadata decodes and validates a metadata_props entry.
func UnmarshalMetadata(s string) (Metadata, error) {
	var m Metadata
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return Metadata{}, fmt.Errorf("decode model metadata: %w", err)
	}
	if err := m.Config.Validate(); err != nil {
		return Metadata{}, fmt.Errorf("model metadata: invalid config: %w", err)
	}
	return m, nil
}

// ReadMetadata returns the vitseg metadata stored in a serialized ONNX model.
func ReadMetadata(onnxModel []byte) (Metadata, error) {
	props, err := onnxfile.Metadata(onnxModel)
	if err != nil {
		return Metadata{}, fmt.Errorf("read ONNX metadata: %w", err)
	}
	js, ok := props[MetadataKey]
	if !ok {
		return Metadata{}, fmt.Errorf("%w: no %q metadata", ErrNotVitseg, MetadataKey)
	}
	return UnmarshalMetadata(js)
}

// WriteMetadata returns the serialized ONNX model with m as its vitseg metadata, replacing any before. It only
// edits the file's metadata_props: the graph and weights are untouched.
func WriteMetadata(onnxModel []byte, m Metadata) ([]byte, error) {
	js, err := MarshalMetadata(m)
	if err != nil {
		return nil, err
	}
	b, err := onnxfile.SetMetadata(onnxModel, map[string]string{MetadataKey: js})
	if err != nil {
		return nil, fmt.Errorf("write ONNX metadata: %w", err)
	}
	return b, nil
}
