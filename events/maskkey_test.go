package events

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// keyOfDerivedLength returns a source key, in segments of at most 200 bytes of fill (a one-, two-, three- or
// four-byte character), whose derived mask key under prefix "masks/" with etag and version is n bytes long.
func keyOfDerivedLength(t *testing.T, n int, fill, etag, version string) string {
	t.Helper()
	overhead := len("masks/") + len("."+etag+"."+version+".mask.png")
	want := n - overhead
	var b strings.Builder
	for b.Len() < want {
		seg := strings.Repeat(fill, 200/len(fill))
		if rest := want - b.Len(); len(seg)+1 >= rest {
			seg = strings.Repeat("x", rest) // The last segment in ASCII hits the length exactly.
			if rest > 150 {
				seg = strings.Repeat("x", rest-100) + "/" + strings.Repeat("y", 99)
			}
		} else {
			seg += "/"
		}
		b.WriteString(seg)
	}
	if b.Len() != want {
		t.Fatalf("built a key of %d bytes, want %d", b.Len(), want)
	}
	return b.String()
}

func TestMaskKeyDerived(t *testing.T) {
	tests := []struct{ prefix, key, etag, version, want string }{
		{"masks/", "uploads/cat.jpg", "abc", "000002", "masks/uploads/cat.jpg.abc.000002.mask.png"},
		{"out", "a b/ü.png", "e", "v1", "out/a b/ü.png.e.v1.mask.png"},
	}
	for _, tc := range tests {
		got := MaskKey(tc.prefix, tc.key, tc.etag, tc.version)
		if got.Key != tc.want || got.Form != MaskKeyDerived {
			t.Errorf("MaskKey(%q, %q, %q, %q) = %+v, want %q derived", tc.prefix, tc.key, tc.etag, tc.version, got, tc.want)
		}
	}
}

// TestMaskKeyBoundaries: the derived form up to MaxKeyBytes (1,024) bytes, the bounded form from
// 1,025, for ASCII and multi-byte UTF-8 keys, and for a last segment over MinIO's 255 bytes.
func TestMaskKeyBoundaries(t *testing.T) {
	const etag, version = "0123456789abcdef0123456789abcdef", "000042"
	for _, fill := range []string{"a", "é", "猫", "🐈"} {
		for _, tc := range []struct {
			n    int
			want MaskKeyForm
		}{{1023, MaskKeyDerived}, {1024, MaskKeyDerived}, {1025, MaskKeyBounded}, {1100, MaskKeyBounded}} {
			key := keyOfDerivedLength(t, tc.n, fill, etag, version)
			got := MaskKey("masks/", key, etag, version)
			if got.Form != tc.want {
				t.Errorf("%q fill, derived length %d: form %s, want %s", fill, tc.n, got.Form, tc.want)
			}
			checkLegalMaskKey(t, "masks/", key, got)
			if tc.want == MaskKeyDerived && len(got.Key) != tc.n {
				t.Errorf("derived key is %d bytes, want %d", len(got.Key), tc.n)
			}
		}
	}
	long := "uploads/" + strings.Repeat("猫", 80) + ".jpg" // a 252-byte last segment: legal alone, not with the suffix
	got := MaskKey("masks/", long, etag, version)
	if got.Form != MaskKeyBounded {
		t.Errorf("a %d-byte last segment: form %s, want bounded", len(long)-len("uploads/"), got.Form)
	}
	checkLegalMaskKey(t, "masks/", long, got)
}

func checkLegalMaskKey(t *testing.T, prefix, source string, m Mask) {
	t.Helper()
	if len(m.Key) > MaxKeyBytes || !utf8.ValidString(m.Key) || !strings.HasPrefix(m.Key, prefix) {
		t.Errorf("mask key of %d bytes (valid UTF-8 %v) %.60q...: want at most %d bytes of UTF-8 under %q",
			len(m.Key), utf8.ValidString(m.Key), m.Key, MaxKeyBytes, prefix)
	}
	for seg := range strings.SplitSeq(m.Key, "/") {
		if len(seg) > MaxKeySegmentBytes || seg == "." || seg == ".." {
			t.Errorf("mask key segment of %d bytes %.40q", len(seg), seg)
		}
	}
	if m.Form == MaskKeyBounded {
		readable, _, _ := strings.Cut(strings.TrimPrefix(m.Key, prefix), "~")
		if len(readable) < 800 && len(source) > 900 {
			t.Errorf("only %d bytes of the source key kept readable", len(readable))
		}
		for i, seg := range strings.Split(readable, "/") {
			if !strings.HasPrefix(strings.Split(source, "/")[i], seg) {
				t.Errorf("readable segment %d %.40q is not a prefix of the source's", i, seg)
			}
		}
	}
	if len(m.SourceKeyHash) != 64 {
		t.Errorf("source key hash %q", m.SourceKeyHash)
	}
}

// TestMaskKeyBoundedIsUniqueAndStable: the bounded form is the same for the same inputs and differs when only
// the end of the source key, the ETag or the version differ.
func TestMaskKeyBoundedIsUniqueAndStable(t *testing.T) {
	base := strings.Repeat("d/", 495) + "photo"
	e, f := strings.Repeat("e", 32), strings.Repeat("f", 32)
	a := MaskKey("masks/", base+"-1.jpg", e, "v")
	if a.Form != MaskKeyBounded {
		t.Fatalf("form %s", a.Form)
	}
	if b := MaskKey("masks/", base+"-1.jpg", e, "v"); b != a {
		t.Errorf("not stable: %q then %q", a.Key, b.Key)
	}
	seen := map[string]bool{a.Key: true}
	for _, m := range []Mask{MaskKey("masks/", base+"-2.jpg", e, "v"), MaskKey("masks/", base+"-1.jpg", f, "v"),
		MaskKey("masks/", base+"-1.jpg", e, "w")} {
		if seen[m.Key] {
			t.Errorf("two inputs share the bounded key %q", m.Key)
		}
		seen[m.Key] = true
	}
}

func TestCheckMaskPrefix(t *testing.T) {
	tests := []struct {
		prefix string
		ok     bool
	}{{"masks/", true}, {strings.Repeat("p/", 256), true}, {strings.Repeat("p/", 257), false}, {strings.Repeat("p", 256) + "/", false}}
	for _, tc := range tests {
		if err := CheckMaskPrefix(tc.prefix); (err == nil) != tc.ok {
			t.Errorf("CheckMaskPrefix(%d bytes) = %v, want ok %v", len(tc.prefix), err, tc.ok)
		}
	}
}

func TestReadablePart(t *testing.T) {
	tests := []struct {
		key               string
		room, lastReserve int
		want              string
	}{
		{"a/b/c", 100, 0, "a/b/c"},
		{"a/.../x", 4, 0, "a"},           // the cut would leave "a/..": the ".." is dropped
		{"dir/photo.jpg", 5, 0, "dir/p"}, // cut within the room
		{"dir/" + strings.Repeat("x", 300), 1000, 74, "dir/" + strings.Repeat("x", 181)}, // last segment leaves room for the suffix
		{strings.Repeat("y", 300) + "/z", 1000, 0, strings.Repeat("y", 255) + "/z"},      // every segment within 255 bytes
		{"猫猫", 4, 0, "猫"}, // never half a character
	}
	for _, tc := range tests {
		if got := readablePart(tc.key, tc.room, tc.lastReserve); got != tc.want {
			t.Errorf("readablePart(%.20q, %d, %d) = %.30q, want %.30q", tc.key, tc.room, tc.lastReserve, got, tc.want)
		}
	}
}
