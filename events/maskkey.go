package events

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
	"strings"
	"unicode/utf8"
)

// MaxKeySegmentBytes is the longest "/"-separated segment of an object key that MinIO's file-system backends
// accept (S3 itself limits only the whole key, to MaxKeyBytes).
const MaxKeySegmentBytes = 255

// MaxPrefixBytes bounds a mask prefix (--output-prefix) so that the bounded mask key always has room for its hash.
const MaxPrefixBytes = 512

// Mask is where the mask of a source object goes.
type Mask struct {
	Key  string
	Form MaskKeyForm
	// SourceKeyHash is the hex SHA-256 of the source key, recorded in the mask's object metadata, so that a
	// bounded key can be traced back to its source.
	SourceKeyHash string
}

// MaskKey is where the mask of a source object goes, derived from the source key, its ETag and the model
// version, so that reprocessing the same object with the same model overwrites the same mask.
//
// The derived form is PREFIX/SOURCEKEY.ETAG.VERSION.mask.png. When that would not be a legal key (over
// MaxKeyBytes bytes in all, or a segment over MaxKeySegmentBytes) the bounded form is used instead:
// PREFIX/READABLE~HASH.mask.png, where HASH is the hex SHA-256 of the source key, the ETag and the version (so
// it stays unique and idempotent) and READABLE is the longest leading part of the source key, cut at a UTF-8
// character boundary, with each segment cut to fit, that keeps the whole key within both limits.
func MaskKey(prefix, sourceKey, etag, modelVersion string) Mask {
	sum := sha256.Sum256([]byte(sourceKey))
	m := Mask{Key: path.Join(prefix, sourceKey) + "." + etag + "." + modelVersion + ".mask.png",
		Form: MaskKeyDerived, SourceKeyHash: hex.EncodeToString(sum[:])}
	if legalKey(m.Key) {
		return m
	}
	h := sha256.New()
	for _, s := range []string{sourceKey, etag, modelVersion} {
		fmt.Fprintf(h, "%d:%s", len(s), s) // length-prefixed: no two triples hash the same input
	}
	suffix := "~" + hex.EncodeToString(h.Sum(nil)) + ".mask.png"
	head := strings.TrimSuffix(path.Clean("/"+prefix), "/") + "/" // "/" or "/PREFIX/"
	room := MaxKeyBytes - (len(head) - 1) - len(suffix)
	readable := readablePart(strings.TrimLeft(path.Clean("/"+sourceKey), "/"), room, len(suffix))
	m.Key = strings.TrimPrefix(head, "/") + readable + suffix
	m.Form = MaskKeyBounded
	return m
}

// legalKey reports whether key fits S3's length limit and MinIO's segment limit.
func legalKey(key string) bool {
	if len(key) > MaxKeyBytes {
		return false
	}
	for seg := range strings.SplitSeq(key, "/") {
		if len(seg) > MaxKeySegmentBytes {
			return false
		}
	}
	return true
}

// readablePart returns the leading part of key within room bytes, each segment cut to MaxKeySegmentBytes and
// the last to MaxKeySegmentBytes-lastReserve (the suffix is appended to it), every cut at a character boundary.
// "." and ".." segments that a cut could produce are dropped, so the result never leaves the prefix.
func readablePart(key string, room, lastReserve int) string {
	segs := strings.Split(cutUTF8(key, room), "/")
	kept := segs[:0]
	for i, seg := range segs {
		limit := MaxKeySegmentBytes
		if i == len(segs)-1 {
			limit -= lastReserve
		}
		if seg = cutUTF8(seg, limit); seg != "." && seg != ".." {
			kept = append(kept, seg)
		}
	}
	return strings.Join(kept, "/")
}

// cutUTF8 returns the longest prefix of s of at most n bytes that ends at a character boundary.
func cutUTF8(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// CheckMaskPrefix refuses a mask prefix that leaves the bounded mask key no room.
func CheckMaskPrefix(prefix string) error {
	if len(prefix) > MaxPrefixBytes {
		return fmt.Errorf("output prefix is %d bytes, over %d", len(prefix), MaxPrefixBytes)
	}
	for seg := range strings.SplitSeq(prefix, "/") {
		if len(seg) > MaxKeySegmentBytes {
			return fmt.Errorf("output prefix has a segment of %d bytes, over %d", len(seg), MaxKeySegmentBytes)
		}
	}
	return nil
}
