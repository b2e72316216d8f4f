package events

import (
	"bytes"
	"testing"
	"unicode/utf8"
)

func TestPayloadEncoding(t *testing.T) {
	tests := []struct {
		name      string
		in        []byte
		encoding  string
		truncated bool
	}{
		{"empty", []byte{}, EncodingUTF8, false},
		{"text", []byte("héllo"), EncodingUTF8, false},
		{"binary", []byte{0xff, 0xfe}, EncodingBase64, false},
		{"long text cut inside a rune", append(bytes.Repeat([]byte("a"), MaxPayloadBytes-1), "éé"...), EncodingUTF8, true},
		{"long binary", bytes.Repeat([]byte{0xff}, MaxPayloadBytes+5), EncodingBase64, true},
		{"JSON with markup", []byte(`{"bucket":"pets","key":"uploads/<cat> & dog.jpg","note":"a \"quoted\" word"}`), EncodingUTF8, false},
		{"control characters", bytes.Repeat([]byte{1, 'a'}, 100), EncodingBase64, false},
		{"markup heavy", bytes.Repeat([]byte("<>&"), 100), EncodingBase64, false},
	}
	for _, tt := range tests {
		p := newPayload(tt.in, MaxPayloadBytes)
		if p.Encoding != tt.encoding || p.Truncated != tt.truncated || p.Size != len(tt.in) {
			t.Errorf("%s: %s truncated=%t size=%d", tt.name, p.Encoding, p.Truncated, p.Size)
		}
		b, err := p.Bytes()
		if err != nil {
			t.Fatalf("%s: Bytes: %v", tt.name, err)
		}
		if !bytes.HasPrefix(tt.in, b) || len(b) > MaxPayloadBytes || (!tt.truncated && len(b) != len(tt.in)) {
			t.Errorf("%s: Bytes() is not the expected prefix (%d of %d bytes)", tt.name, len(b), len(tt.in))
		}
		if p.Encoding == EncodingUTF8 && !utf8.ValidString(p.Data) {
			t.Errorf("%s: invalid UTF-8 data", tt.name)
		}
	}
}

// TestDeadLetterOfHugeMessageFits: whatever the original message holds (the largest value, key, header keys
// and the most headers, all of bytes JSON escapes six-fold), its dead-letter event stays far under Kafka's
// default 1 MB message limit and matches the schema.
