package consumer

import (
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/vitseg/vitseg/events"
)

// The fixtures were captured from the pinned MinIO server (webhook target)
// for a PUT and a DELETE of the key below, which exercises '/', ' ', '+',
// '(', '%' and non-ASCII in URL encoding.
const fixtureKey = "photos/2024 summer/Bengal cat+1 (ü)%.jpg"

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseMessageMinIOFixture(t *testing.T) {
	refs, err := ParseMessage(readFixture(t, "minio-put.json"))
	if err != nil {
		t.Fatalf("ParseMessage: %v", err)
	}
	want := []ImageRef{{
		Bucket:    "pets",
		Key:       fixtureKey,
		ETag:      "08a83d6686281a5a292732435b21f83a",
		Size:      17,
		ID:        "18EBD93EB854573A",
		EventName: "s3:ObjectCreated:Put",
	}}
	if !reflect.DeepEqual(refs, want) {
		t.Errorf("refs = %+v\nwant %+v", refs, want)
	}
}

func TestParseMessageMinIODeleteIsIgnored(t *testing.T) {
	refs, err := ParseMessage(readFixture(t, "minio-delete.json"))
	if !errors.Is(err, ErrIgnored) {
		t.Fatalf("ParseMessage = %v, %v; want ErrIgnored", refs, err)
	}
	var me *MessageError
	if !errors.As(err, &me) || !strings.Contains(me.Reason, "no ObjectCreated records") {
		t.Errorf("error %v lacks a reason", err)
	}
	p, err := parse(readFixture(t, "minio-delete.json"))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := []skippedRecord{{Index: 0, EventName: "s3:ObjectRemoved:Delete", Reason: "event is not an object creation"}}
	if len(p.Refs) != 0 || !reflect.DeepEqual(p.Skipped, want) {
		t.Errorf("Parse = %+v, want no refs and skipped %+v", p, want)
	}
}

// notificationWith builds a MinIO-shaped notification from the PUT fixture
// with the given records, each a (eventName, bucket, encoded key) triple.
func notificationWith(t *testing.T, records ...[3]string) []byte {
	t.Helper()
	var base map[string]any
	if err := json.Unmarshal(readFixture(t, "minio-put.json"), &base); err != nil {
		t.Fatal(err)
	}
	tmpl := base["Records"].([]any)[0].(map[string]any)
	recs := make([]any, 0, len(records))
	for _, r := range records {
		raw, _ := json.Marshal(tmpl)
		var rec map[string]any
		_ = json.Unmarshal(raw, &rec)
		rec["eventName"] = r[0]
		s3 := rec["s3"].(map[string]any)
		s3["bucket"].(map[string]any)["name"] = r[1]
		s3["object"].(map[string]any)["key"] = r[2]
		recs = append(recs, rec)
	}
	base["Records"] = recs
	out, err := json.Marshal(base)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestParseMessageValid(t *testing.T) {
	tests := []struct {
		name  string
		value []byte
		want  []ImageRef // only Bucket, Key, ID and EventName are compared
	}{
		{
			name:  "plain reference",
			value: []byte(`{"bucket":"pets","key":"a/b c.jpg"}`),
			want:  []ImageRef{{Bucket: "pets", Key: "a/b c.jpg"}},
		},
		{
			name:  "plain reference with id and extra field",
			value: []byte(` {"bucket":"pets","key":"cat%20.png","id":"req-7","priority":3} `),
			want:  []ImageRef{{Bucket: "pets", Key: "cat%20.png", ID: "req-7"}},
		},
		{
			name:  "plain reference with null id",
			value: []byte(`{"bucket":"pets","key":"k","id":null}`),
			want:  []ImageRef{{Bucket: "pets", Key: "k"}},
		},
		{
			name: "several records, plus decoded and skipped",
			value: notificationWith(t,
				[3]string{"s3:ObjectCreated:Put", "pets", "a+b%2Bc.jpg"},
				[3]string{"s3:ObjectRemoved:Delete", "pets", "gone.jpg"},
				[3]string{"s3:ObjectCreated:CompleteMultipartUpload", "more-pets", "dir%2Fx%20y.png"},
			),
			want: []ImageRef{
				{Bucket: "pets", Key: "a b+c.jpg", ID: "18EBD93EB854573A", EventName: "s3:ObjectCreated:Put"},
				{Bucket: "more-pets", Key: "dir/x y.png", ID: "18EBD93EB854573A", EventName: "s3:ObjectCreated:CompleteMultipartUpload"},
			},
		},
		{
			name:  "AWS event name without s3: prefix",
			value: notificationWith(t, [3]string{"ObjectCreated:Copy", "pets", "k.jpg"}),
			want:  []ImageRef{{Bucket: "pets", Key: "k.jpg", ID: "18EBD93EB854573A", EventName: "ObjectCreated:Copy"}},
		},
		{
			name:  "dots inside a segment are fine",
			value: []byte(`{"bucket":"pets","key":"a..b/.hidden/c...jpg"}`),
			want:  []ImageRef{{Bucket: "pets", Key: "a..b/.hidden/c...jpg"}},
		},
		{
			name:  "key of exactly events.MaxKeyBytes",
			value: []byte(`{"bucket":"pets","key":"` + strings.Repeat("k", events.MaxKeyBytes) + `"}`),
			want:  []ImageRef{{Bucket: "pets", Key: strings.Repeat("k", events.MaxKeyBytes)}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			refs, err := ParseMessage(tt.value)
			if err != nil {
				t.Fatalf("ParseMessage: %v", err)
			}
			got := make([]ImageRef, len(refs))
			for i, r := range refs {
				got[i] = ImageRef{Bucket: r.Bucket, Key: r.Key, ID: r.ID, EventName: r.EventName}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("refs = %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseMessageRejects(t *testing.T) {
	long := strings.Repeat("k", events.MaxKeyBytes+1)
	tests := []struct {
		name   string
		value  string
		kind   error
		reason string // substring of the Reason
	}{
		{"empty", "", ErrMalformed, "empty message"},
		{"blank", " \n", ErrMalformed, "empty message"},
		{"not JSON", "bucket=pets key=x", ErrMalformed, "not a JSON object"},
		{"truncated JSON", `{"bucket":"pets","key":"x"`, ErrMalformed, "not a JSON object"},
		{"trailing data", `{"bucket":"pets","key":"x"} {}`, ErrMalformed, "not a JSON object"},
		{"array", `[{"bucket":"pets","key":"x"}]`, ErrMalformed, "not a JSON object"},
		{"string", `"pets/x"`, ErrMalformed, "not a JSON object"},
		{"null", `null`, ErrMalformed, "unknown message shape"},
		{"unknown shape", `{"object":"pets/x"}`, ErrMalformed, "unknown message shape"},
		{"bucket not a string", `{"bucket":7,"key":"x"}`, ErrMalformed, `"bucket" is not a string`},
		{"id not a string", `{"bucket":"pets","key":"x","id":{}}`, ErrMalformed, `"id" is not a string`},
		{"missing key", `{"bucket":"pets"}`, ErrInvalidReference, "empty object key"},
		{"missing bucket", `{"key":"x"}`, ErrInvalidReference, "empty bucket name"},
		{"empty key", `{"bucket":"pets","key":""}`, ErrInvalidReference, "empty object key"},
		{"short bucket", `{"bucket":"pe","key":"x"}`, ErrInvalidReference, "3 to 63"},
		{"upper-case bucket", `{"bucket":"Pets","key":"x"}`, ErrInvalidReference, "a-z, 0-9"},
		{"bucket with slash", `{"bucket":"pets/x","key":"x"}`, ErrInvalidReference, "a-z, 0-9"},
		{"bucket ends in dash", `{"bucket":"pets-","key":"x"}`, ErrInvalidReference, "start and end"},
		{"bucket with double dot", `{"bucket":"pe..ts","key":"x"}`, ErrInvalidReference, "consecutive dots"},
		{"dot-dot segment", `{"bucket":"pets","key":"a/../../etc/passwd"}`, ErrInvalidReference, `".." path segment`},
		{"dot-dot key", `{"bucket":"pets","key":".."}`, ErrInvalidReference, `".." path segment`},
		{"dot segment", `{"bucket":"pets","key":"a/./b"}`, ErrInvalidReference, `"." path segment`},
		{"NUL in key", `{"bucket":"pets","key":"a\u0000b"}`, ErrInvalidReference, "NUL"},
		{"newline in key", `{"bucket":"pets","key":"a\nb"}`, ErrInvalidReference, "control character"},
		{"over-long key", `{"bucket":"pets","key":"` + long + `"}`, ErrInvalidReference, "over 1024"},
		{"over-long id", `{"bucket":"pets","key":"x","id":"` + strings.Repeat("i", events.MaxIDBytes+1) + `"}`, ErrInvalidReference, "id is"},
		{"no records", `{"EventName":"s3:ObjectCreated:Put","Records":[]}`, ErrMalformed, "no records"},
		{"null records", `{"Records":null}`, ErrMalformed, "no records"},
		{"records not an array", `{"Records":{"eventName":"s3:ObjectCreated:Put"}}`, ErrMalformed, "does not decode"},
		{"size not a number", `{"Records":[{"eventName":"s3:ObjectCreated:Put","s3":{"bucket":{"name":"pets"},"object":{"key":"x","size":"big"}}}]}`, ErrMalformed, "does not decode"},
		{"negative size", `{"Records":[{"eventName":"s3:ObjectCreated:Put","s3":{"bucket":{"name":"pets"},"object":{"key":"x","size":-1}}}]}`, ErrMalformed, "record 0: object size -1"},
		{"record without s3", `{"Records":[{"eventName":"s3:ObjectCreated:Put"}]}`, ErrMalformed, "record 0: s3:ObjectCreated:Put record has no s3 entity"},
		{"encoded dot-dot", `{"Records":[{"eventName":"s3:ObjectCreated:Put","s3":{"bucket":{"name":"pets"},"object":{"key":"a%2F..%2Fb"}}}]}`, ErrInvalidReference, `record 0: object key "a/../b" has a ".." path segment`},
		{"encoded NUL", `{"Records":[{"eventName":"s3:ObjectCreated:Put","s3":{"bucket":{"name":"pets"},"object":{"key":"a%00b"}}}]}`, ErrInvalidReference, "NUL"},
		{"bad escape", `{"Records":[{"eventName":"s3:ObjectCreated:Put","s3":{"bucket":{"name":"pets"},"object":{"key":"a%zzb"}}}]}`, ErrInvalidReference, "not URL-encoded"},
		{"invalid UTF-8 after decoding", `{"Records":[{"eventName":"s3:ObjectCreated:Put","s3":{"bucket":{"name":"pets"},"object":{"key":"a%FFb"}}}]}`, ErrInvalidReference, "not UTF-8"},
		{"empty bucket in record", `{"Records":[{"eventName":"s3:ObjectCreated:Put","s3":{"bucket":{"name":""},"object":{"key":"x"}}}]}`, ErrInvalidReference, "empty bucket name"},
		{"one bad record rejects all", `{"Records":[{"eventName":"s3:ObjectCreated:Put","s3":{"bucket":{"name":"pets"},"object":{"key":"ok"}}},{"eventName":"s3:ObjectCreated:Put","s3":{"bucket":{"name":"pets"},"object":{"key":""}}}]}`, ErrInvalidReference, "record 1: empty object key"},
		{"only removals", `{"Records":[{"eventName":"s3:ObjectRemoved:Delete"},{"eventName":""}]}`, ErrIgnored, "record 0: event is not an object creation; record 1: record has no eventName"},
		{"S3 test event", `{"Service":"Amazon S3","Event":"s3:TestEvent","Bucket":"pets"}`, ErrIgnored, "s3:TestEvent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			refs, err := ParseMessage([]byte(tt.value))
			if err == nil {
				t.Fatalf("ParseMessage = %+v, want an error", refs)
			}
			if refs != nil {
				t.Errorf("refs = %+v alongside the error", refs)
			}
			if !errors.Is(err, tt.kind) {
				t.Errorf("error %v is not %v", err, tt.kind)
			}
			for _, other := range []error{ErrMalformed, ErrInvalidReference, ErrIgnored, ErrNotAllowed} {
				if other != tt.kind && errors.Is(err, other) {
					t.Errorf("error %v is also %v", err, other)
				}
			}
			var me *MessageError
			if !errors.As(err, &me) {
				t.Fatalf("error %T is not a *MessageError", err)
			}
			if !strings.Contains(me.Reason, tt.reason) {
				t.Errorf("Reason = %q, want it to contain %q", me.Reason, tt.reason)
			}
			if len(me.Reason) > 300 || strings.ContainsAny(me.Reason, "\n\x00") {
				t.Errorf("Reason is not a short single line: %q", me.Reason)
			}
		})
	}
}

func TestMessageErrorUnwrapsCause(t *testing.T) {
	_, err := ParseMessage([]byte(`{"bucket": pets}`))
	var syntax *json.SyntaxError
	if !errors.As(err, &syntax) {
		t.Errorf("error %v does not expose the *json.SyntaxError", err)
	}
	if !strings.HasPrefix(err.Error(), "malformed message: not a JSON object: ") {
		t.Errorf("Error() = %q", err.Error())
	}
}

func TestExcerptCutsOnRuneBoundary(t *testing.T) {
	s := strings.Repeat("é", excerptLimit) // 2 bytes each
	got := excerpt(s)
	if !strings.HasSuffix(got, "...") || len(got) > excerptLimit+3 {
		t.Fatalf("excerpt = %q", got)
	}
	if trimmed := strings.TrimSuffix(got, "..."); strings.ToValidUTF8(trimmed, "?") != trimmed {
		t.Errorf("excerpt cut inside a rune: %q", got)
	}
}

func FuzzParseMessage(f *testing.F) {
	f.Add([]byte(`{"bucket":"pets","key":"a/b.jpg","id":"x"}`))
	f.Add([]byte(`{"Records":[{"eventName":"s3:ObjectCreated:Put","s3":{"bucket":{"name":"pets"},"object":{"key":"a%2F..%2Fb"}}}]}`))
	if b, err := os.ReadFile("testdata/minio-put.json"); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, value []byte) {
		refs, err := ParseMessage(value)
		if err != nil {
			var me *MessageError
			if !errors.As(err, &me) || me.Reason == "" {
				t.Fatalf("error %v is not a *MessageError with a reason", err)
			}
			return
		}
		if len(refs) == 0 {
			t.Fatal("no refs and no error")
		}
		for _, r := range refs {
			if err := ValidateObject(r.Bucket, r.Key); err != nil {
				t.Fatalf("returned ref %+v fails validation: %v", r, err)
			}
		}
	})
}
