package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/vitseg/vitseg/events"
)

// Outcomes of an input.
const (
	processed = "processed"
	deadLet   = "dead-lettered"
	ignored   = "ignored (committed, no event)"
	refused   = "refused by the broker (never consumed)"
)

// outcome is what became of one input.
type outcome struct {
	Kind   string
	Class  events.ErrorClass
	Reason string
}

// badInput is one entry of the corpus: an object uploaded under uploads/bad/ (announced by MinIO's
// notification) or a message produced to the input topic.
type badInput struct {
	name      string
	what      string
	object    []byte // upload uploads/bad/<name> with these bytes (when msg is nil)
	msg       *kafka.Message
	refKey    string // for a produced reference that should be processed: its object key
	want      outcome
	wantMatch string // substring of the observed reason
}

// imageLimit is --max-image-bytes of the corpus run.
const imageLimit = 2 << 20

// corpus builds the bad inputs.
func corpus(t *testing.T) []badInput {
	t.Helper()
	bengal := photo(t, "Bengal_10.jpg")
	notification := func(event, key string) []byte {
		return []byte(fmt.Sprintf(`{"EventName":%q,"Key":"pets/%s","Records":[{"eventVersion":"2.0","eventSource":"minio:s3",`+
			`"eventName":%q,"s3":{"bucket":{"name":"pets"},"object":{"key":%q,"size":1234,"eTag":"0123"}}}]}`, event, key, event, key))
	}
	padded := append(append([]byte(nil), bengal...), make([]byte, imageLimit)...)
	bigRef, err := json.Marshal(map[string]string{"bucket": bucket, "key": "direct/big-ref.jpg", "pad": strings.Repeat("x", 2<<20)})
	if err != nil {
		t.Fatal(err)
	}
	var heavyHeaders []kafka.Header
	for i := range 24 {
		heavyHeaders = append(heavyHeaders, kafka.Header{Key: fmt.Sprintf("h%02d", i), Value: bytes.Repeat([]byte{1}, 60<<10)})
	}
	msg := func(value []byte, headers ...kafka.Header) *kafka.Message {
		return &kafka.Message{Value: value, Headers: headers}
	}
	return []badInput{
		{name: "truncated.jpg", what: "JPEG cut at 60 % of its bytes", object: bengal[:len(bengal)*6/10],
			want: outcome{deadLet, events.ClassBadImage, ""}, wantMatch: "imaging: corrupt"},
		{name: "gif-named.jpg", what: "GIF named .jpg (the dataset's Abyssinian_34.jpg)", object: photo(t, "Abyssinian_34.jpg"),
			want: outcome{Kind: processed}},
		{name: "rgba-png.jpg", what: "8-bit RGBA PNG with transparency, named .jpg", object: rgbaPNG(t, photo(t, "Abyssinian_1.jpg")),
			want: outcome{Kind: processed}},
		{name: "png16.png", what: "16-bit-per-channel PNG", object: png16(t, photo(t, "Abyssinian_1.jpg")),
			want: outcome{Kind: processed}},
		{name: "cmyk.jpg", what: "Adobe CMYK JPEG (4 components)", object: cmykJPEG(), want: outcome{Kind: processed}},
		{name: "empty.jpg", what: "zero-byte object", object: []byte{},
			want: outcome{deadLet, events.ClassBadImage, ""}, wantMatch: "imaging: empty"},
		{name: "notes.txt", what: "text file", object: []byte("just some notes, not an image\n"),
			want: outcome{deadLet, events.ClassBadImage, ""}, wantMatch: "unknown format"},
		{name: "matlab.jpg", what: "MATLAB .mat file named .jpg (from the dataset)", object: photo(t, "Abyssinian_100.mat"),
			want: outcome{deadLet, events.ClassBadImage, ""}, wantMatch: "unknown format"},
		{name: "one-pixel.png", what: "1x1 PNG", object: onePixelPNG(t), want: outcome{Kind: processed}},
		{name: "bomb.png", what: "PNG header declaring 50000x50000, no pixel data", object: pngHeaderOnly(50000, 50000),
			want: outcome{deadLet, events.ClassTooLarge, ""}, wantMatch: "too many pixels"},
		{name: "oversize.jpg", what: fmt.Sprintf("JPEG padded to %d bytes (--max-image-bytes %d)", len(padded), imageLimit),
			object: padded, want: outcome{deadLet, events.ClassTooLarge, ""}, wantMatch: "over the limit"},

		{name: "malformed-json", what: "truncated JSON", msg: msg([]byte(`{"bucket":"pets","key":`)),
			want: outcome{deadLet, events.ClassMalformedMessage, ""}, wantMatch: "not a JSON object"},
		{name: "not-json", what: "plain text message", msg: msg([]byte("hello, this is not JSON")),
			want: outcome{deadLet, events.ClassMalformedMessage, ""}, wantMatch: "not a JSON object"},
		{name: "unknown-shape", what: "JSON of no known shape", msg: msg([]byte(`{"hello":"world"}`)),
			want: outcome{deadLet, events.ClassMalformedMessage, ""}, wantMatch: "unknown message shape"},
		{name: "empty-message", what: "zero-length message", msg: msg([]byte{}),
			want: outcome{deadLet, events.ClassMalformedMessage, ""}, wantMatch: "empty message"},
		{name: "missing-object", what: "reference to a non-existent object", msg: msg(ref(bucket, uploads+"bad/does-not-exist.jpg")),
			want: outcome{deadLet, events.ClassMissingObject, ""}, wantMatch: "does not exist"},
		{name: "dotdot-key", what: "reference with a ../ key", msg: msg(ref(bucket, uploads+"../private/secret.jpg")),
			want: outcome{deadLet, events.ClassMalformedMessage, ""}, wantMatch: `".." path segment`},
		{name: "dotdot-notification", what: "notification whose URL-encoded key has ../", msg: msg(notification("s3:ObjectCreated:Put", "uploads%2F..%2F..%2Fetc%2Fpasswd")),
			want: outcome{deadLet, events.ClassMalformedMessage, ""}, wantMatch: `".." path segment`},
		{name: "nul-key", what: "reference whose key holds a NUL byte", msg: msg(ref(bucket, uploads+"a\x00b.jpg")),
			want: outcome{deadLet, events.ClassMalformedMessage, ""}, wantMatch: "contains NUL"},
		{name: "bucket-not-allowed", what: "reference to an existing object in a bucket off the allow-list", msg: msg(ref("private", "secret.jpg")),
			want: outcome{deadLet, events.ClassNotAllowed, ""}, wantMatch: "outside the allow list"},
		{name: "prefix-not-allowed", what: "reference to an existing object of the bucket outside the allowed prefixes", msg: msg(ref(bucket, "elsewhere/secret.jpg")),
			want: outcome{deadLet, events.ClassNotAllowed, ""}, wantMatch: "outside the allow list"},
		{name: "own-output", what: "reference to the pipeline's own output prefix", msg: msg(ref(bucket, outputPrefix+uploads+"x.jpg.mask.png")),
			want: outcome{Kind: ignored}},
		{name: "not-a-creation", what: "notification of s3:ObjectRemoved:Delete", msg: msg(notification("s3:ObjectRemoved:Delete", "uploads%2Fgone.jpg")),
			want: outcome{Kind: ignored}},
		{name: "test-event", what: "s3:TestEvent", msg: msg([]byte(`{"Service":"Amazon S3","Event":"s3:TestEvent","Bucket":"pets"}`)),
			want: outcome{Kind: ignored}},
		{name: "oversize-garbage", what: "2 MiB message of garbage (over the consumer's 1 MiB MaxBytes)", msg: msg(bytes.Repeat([]byte("x"), 2<<20)),
			want: outcome{deadLet, events.ClassMalformedMessage, ""}, wantMatch: "not a JSON object"},
		{name: "oversize-reference", what: "valid 2 MiB reference (padding field; over the consumer's MaxBytes)", msg: msg(bigRef),
			refKey: "direct/big-ref.jpg", want: outcome{Kind: processed}},
		{name: "heavy-headers", what: "malformed message with 24 headers of 60 KiB of control bytes (1.4 MiB)", msg: msg([]byte("not json"), heavyHeaders...),
			want: outcome{deadLet, events.ClassMalformedMessage, ""}, wantMatch: "not a JSON object"},
		{name: "over-broker-limit", what: "9 MiB message (over the topic's 8 MiB max.message.bytes)", msg: msg(bytes.Repeat([]byte("y"), 9<<20)),
			want: outcome{Kind: refused}, wantMatch: "Message Size Too Large"},
	}
}

// TestBadInputCorpus runs the corpus through one running pipeline (with MinIO also announcing the pipeline's
// own masks): each input ends processed, dead-lettered with a precise reason, or ignored, and the pipeline keeps
// running and processes a good image afterwards. With -update-doc it writes the observed table into
// docs/RELIABILITY.md; without, it checks the table there is what it observed.
func TestBadInputCorpus(t *testing.T) {
	s := startStack(t, stackConfig{notifyOutputs: true, bigInput: true})
	l := s.newLedger(t)
	s.minio.MakeBucket("private")
	s.put(t, "private", "secret.jpg", photo(t, "Abyssinian_1.jpg"))
	s.put(t, bucket, "elsewhere/secret.jpg", photo(t, "Abyssinian_1.jpg"))
	s.put(t, bucket, "direct/big-ref.jpg", photo(t, "Abyssinian_1.jpg"))
	srv := s.startServe(t, serveConfig{model: tinyModel(t, 1),
		args: []string{"--allow", bucket + "/direct/", "--max-image-bytes", fmt.Sprint(imageLimit)}})

	cases := corpus(t)
	observed := make([]outcome, len(cases))
	for i, c := range cases {
		if c.msg == nil {
			s.put(t, bucket, uploads+"bad/"+c.name, c.object)
			continue
		}
		m := *c.msg
		m.Key = []byte("case:" + c.name)
		if err := s.tryProduce(inputTopic, m); err != nil {
			var we kafka.WriteErrors
			if errors.As(err, &we) && len(we) == 1 && we[0] != nil {
				err = we[0]
			}
			observed[i] = outcome{Kind: refused, Reason: err.Error()}
		}
	}
	// A good image after the corpus: the pipeline kept running.
	good := s.uploadPhotos(t, samplePhotos(t), "after-corpus.jpg")

	l.waitResults(t, good, 1, 60*time.Second)
	// Settle: every input (and every mask notification) consumed and committed, for two seconds in a row.
	stable := 0
	waitFor(t, 120*time.Second, "the input topic to be fully committed", func() bool {
		if s.allCommitted() {
			stable++
		} else {
			stable = 0
		}
		return stable >= 20
	})
	l.results.syncTo(t, s, partitions)
	l.deads.syncTo(t, s, 1)

	results := l.resultsByKey(t)
	deads := l.deadLetters(t)
	used := make([]bool, len(deads))
	for i, c := range cases {
		if observed[i].Kind != "" {
			continue
		}
		srcKey := uploads + "bad/" + c.name
		if c.msg != nil {
			srcKey = c.refKey
		}
		if srcKey != "" && len(results[srcKey]) > 0 {
			observed[i] = outcome{Kind: processed}
			ev := results[srcKey][0]
			observed[i].Reason = fmt.Sprintf("%dx%d image, mask %s", ev.Image.Width, ev.Image.Height, ev.Mask.Key)
			continue
		}
		for j, d := range deads {
			if used[j] {
				continue
			}
			bySource := c.msg == nil && d.Source != nil && d.Source.Key == srcKey
			byKey := false
			if c.msg != nil && d.Original.Key != nil {
				k, err := d.Original.Key.Bytes()
				byKey = err == nil && string(k) == "case:"+c.name
			}
			if bySource || byKey {
				used[j] = true
				observed[i] = outcome{Kind: deadLet, Class: d.ErrorClass, Reason: d.Reason}
				if d.Original.Value.Truncated {
					observed[i].Reason += fmt.Sprintf(" [original payload of %d bytes truncated]", d.Original.Value.Size)
				}
				break
			}
		}
		if observed[i].Kind == "" {
			observed[i] = outcome{Kind: ignored}
		}
	}
	for j, d := range deads {
		if !used[j] {
			t.Errorf("dead letter for no corpus input: %s: %s", d.ErrorClass, d.Reason)
		}
	}
	for i, c := range cases {
		got := observed[i]
		if got.Kind != c.want.Kind || got.Class != c.want.Class || !strings.Contains(got.Reason, c.wantMatch) {
			t.Errorf("%s: got %s %s %q, want %s %s containing %q", c.name, got.Kind, got.Class, got.Reason, c.want.Kind, c.want.Class, c.wantMatch)
		}
	}
	if len(results[good[0]]) == 0 {
		t.Error("the good image after the corpus was not processed")
	}
	if code, r := srv.readyz(); code != http.StatusOK || !srv.running() {
		t.Errorf("after the corpus: readyz %d %+v, running %v", code, r, srv.running())
	}
	// Every mask came back as a notification and was ignored, like the corpus' own-output inputs.
	masks := 0
	for _, evs := range results {
		masks += len(evs)
	}
	ignoredWant := float64(masks)
	for _, c := range cases {
		if c.want.Kind == ignored {
			ignoredWant++
		}
	}
	if got := srv.metric("vitseg_messages_ignored_total"); got != ignoredWant {
		t.Errorf("vitseg_messages_ignored_total %v, want %v (%d mask notifications + the ignored inputs)", got, ignoredWant, masks)
	}
	dlqTotal := srv.metric("vitseg_dead_lettered_total")
	t.Logf("FIGURES corpus inputs=%d dead_lettered=%v ignored=%v processed_images=%d",
		len(cases), dlqTotal, srv.metric("vitseg_messages_ignored_total"), masks)

	table := corpusTable(cases, observed)
	t.Logf("observed:\n%s", table)
	syncDoc(t, "bad-input table", table)
}

// corpusTable renders the observed outcomes as a Markdown table.
func corpusTable(cases []badInput, observed []outcome) string {
	var b strings.Builder
	b.WriteString("| # | input | delivered as | outcome | error class | reason (as observed) |\n")
	b.WriteString("|---|---|---|---|---|---|\n")
	for i, c := range cases {
		via := "upload to `pets/uploads/bad/" + c.name + "` (MinIO notification)"
		if c.msg != nil {
			via = "message on the input topic"
		}
		class := string(observed[i].Class)
		if class == "" {
			class = "-"
		}
		reason := strings.NewReplacer("|", `\|`, "\n", " ").Replace(observed[i].Reason)
		if reason == "" {
			reason = "-"
		}
		fmt.Fprintf(&b, "| %d | %s | %s | %s | %s | %s |\n", i+1, c.what, via, observed[i].Kind, class, reason)
	}
	return b.String()
}

// syncDoc replaces the generated section name of docs/RELIABILITY.md with content under -update-doc, and
// otherwise checks that the section holds content.
func syncDoc(t *testing.T, name, content string) {
	t.Helper()
	path := filepath.Join(env.repoRoot, "docs", "RELIABILITY.md")
	begin, end := "<!-- BEGIN GENERATED: "+name+" -->\n", "<!-- END GENERATED: "+name+" -->"
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (create it, then run with -update-doc)", err)
	}
	i := bytes.Index(doc, []byte(begin))
	j := bytes.Index(doc, []byte(end))
	if i < 0 || j < i {
		t.Fatalf("%s has no %q ... %q section", path, strings.TrimSpace(begin), end)
	}
	current := string(doc[i+len(begin) : j])
	if current == content {
		return
	}
	if !*updateDoc {
		t.Errorf("the %s of %s differs from what the test observed; rerun with -update-doc.\nobserved:\n%s", name, path, content)
		return
	}
	out := append(append(append([]byte(nil), doc[:i+len(begin)]...), content...), doc[j:]...)
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("updated the %s of %s", name, path)
}
