package model

import (
	"encoding/json"
	"fmt"
	"time"
)

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
