package events

import (
	"encoding/base64"
	"fmt"
	"unicode/utf8"
)

// Payload carries bytes of an original message: as text when they are UTF-8,
// base64-encoded otherwise, cut to MaxPayloadBytes.
type Payload struct {
	// Encoding is "utf8" or "base64".
	Encoding string `json:"encoding"`
	// Data is the bytes, as Encoding says.
	Data string `json:"data"`
	// Size is the length of the original bytes.
	Size int `json:"size"`
	// Truncated is true when Data holds only a prefix of the bytes.
	Truncated bool `json:"truncated"`
}

// Payload encodings.
const (
	EncodingUTF8   = "utf8"
	EncodingBase64 = "base64"
)

// newPayload encodes b, keeping at most limit bytes of it: as text when it
// is valid UTF-8 whose JSON \u escapes do not grow it by more than a third,
// else as base64 (so the encoded payload is at most a little over twice the
// bytes kept, never six times).
func newPayload(b []byte, limit int) Payload {
	p := Payload{Size: len(b)}
	if len(b) > limit {
		b, p.Truncated = b[:limit], true
	}
	if text := trimPartialRune(b, p.Truncated); utf8.Valid(text) && !escapeHeavy(text) {
		p.Encoding, p.Data = EncodingUTF8, string(text)
		return p
	}
	p.Encoding, p.Data = EncodingBase64, base64.StdEncoding.EncodeToString(b)
	return p
}

// escapeHeavy reports whether the six-byte \u escapes of encoding/json
// (control characters other than \n, \r and \t, '<', '>', '&', U+2028 and
// U+2029) would grow text by more than a third. Base64 grows data by a third.
func escapeHeavy(text []byte) bool {
	extra := 0
	for i, c := range text {
		switch {
		case c == '\n' || c == '\r' || c == '\t':
		case c < 0x20 || c == '<' || c == '>' || c == '&':
			extra += 5
		case c == 0xe2 && i+2 < len(text) && text[i+1] == 0x80 && (text[i+2] == 0xa8 || text[i+2] == 0xa9):
			extra += 3
		}
	}
	return 3*extra > len(text)
}

// trimPartialRune drops an incomplete UTF-8 sequence that a cut left at the
// end of b.
func trimPartialRune(b []byte, cut bool) []byte {
	if !cut {
		return b
	}
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				return b[:i]
			}
			break
		}
	}
	return b
}

// Bytes returns the bytes Data holds (the prefix when Truncated).
func (p Payload) Bytes() ([]byte, error) {
	switch p.Encoding {
	case EncodingUTF8:
		return []byte(p.Data), nil
	case EncodingBase64:
		return base64.StdEncoding.DecodeString(p.Data)
	default:
		return nil, fmt.Errorf("%w: unknown payload encoding %q", ErrInvalidEvent, p.Encoding)
	}
}

func (p Payload) validate() error {
	if p.Encoding != EncodingUTF8 && p.Encoding != EncodingBase64 {
		return fmt.Errorf("encoding %q is not utf8 or base64", p.Encoding)
	}
	if p.Size < 0 {
		return fmt.Errorf("size %d is negative", p.Size)
	}
	b, err := p.Bytes()
	if err != nil {
		return err
	}
	if len(b) > MaxPayloadBytes {
		return fmt.Errorf("data holds %d bytes, over %d", len(b), MaxPayloadBytes)
	}
	return nil
}
