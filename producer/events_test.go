package producer

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/segmentio/kafka-go"
)

// compileSchema compiles an embedded schema with format and content
// assertions on, as a strict consumer of the events would.
func compileSchema(t testing.TB, id string, doc []byte) *jsonschema.Schema {
	t.Helper()
	parsed, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		t.Fatalf("schema %s is not JSON: %v", id, err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	c.AssertContent()
	if err := c.AddResource(id, parsed); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(id)
	if err != nil {
		t.Fatalf("compiling %s: %v", id, err)
	}
	return sch
}

// validateJSON validates raw JSON against sch.
func validateJSON(t testing.TB, sch *jsonschema.Schema, raw []byte) error {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("instance is not JSON: %v", err)
	}
	return sch.Validate(inst)
}

func sampleResult() ResultEvent {
	src := Source{Bucket: "pets", Key: "photos/Bengal cat 1.jpg", ETag: "08a83d6686281a5a292732435b21f83a", Size: 48213}
	model := ModelRef{Name: "vitseg", Version: "2026-11-27.1"}
	return ResultEvent{
		SchemaVersion:  SchemaVersion,
		EventID:        ResultEventID(src, model),
		Source:         src,
		Mask:           MaskRef{Bucket: "pets", Key: "masks/photos/Bengal cat 1.png", KeyForm: MaskKeyDerived},
		Model:          model,
		Image:          ImageSize{Width: 500, Height: 375},
		ClassFractions: ClassFractions{Pet: 0.41, Background: 0.52, Border: 0.07},
		PetBBox:        &BBox{X0: 120, Y0: 40, X1: 380, Y1: 360},
		TimingsMS:      Timings{Queue: 0.4, Fetch: 3.2, Decode: 5.1, Infer: 41.7, Total: 50.4},
		ProcessedAt:    time.Date(2026, 11, 27, 8, 30, 0, 123456789, time.UTC),
	}
}

func sampleDeadLetter() DeadLetterEvent {
	msg := kafka.Message{
		Topic: "vitseg.images", Partition: 2, Offset: 1234,
		Key:     []byte("pets/x.jpg"),
		Value:   []byte(`{"bucket":"pets","key":"../x"}`),
		Headers: []kafka.Header{{Key: "trace", Value: []byte{0xff, 0x00, 0x01}}},
	}
	return NewDeadLetter(msg, ClassMalformedMessage, `invalid object reference: object key "../x" has a ".." path segment`, nil,
		time.Date(2026, 11, 27, 8, 31, 0, 0, time.FixedZone("CET", 3600)))
}

func TestSchemasArePublishedAndEmbedded(t *testing.T) {
	for _, tt := range []struct {
		file, id string
		embedded []byte
	}{
		{"schema/result-v1.json", ResultSchemaID, ResultSchema()},
		{"schema/deadletter-v1.json", DeadLetterSchemaID, DeadLetterSchema()},
	} {
		onDisk, err := os.ReadFile(tt.file)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(onDisk, tt.embedded) {
			t.Errorf("%s differs from the embedded copy", tt.file)
		}
		var head struct {
			Schema string `json:"$schema"`
			ID     string `json:"$id"`
		}
		if err := json.Unmarshal(tt.embedded, &head); err != nil {
			t.Fatal(err)
		}
		if head.Schema != "https://json-schema.org/draft/2020-12/schema" || head.ID != tt.id {
			t.Errorf("%s: $schema %q, $id %q", tt.file, head.Schema, head.ID)
		}
		compileSchema(t, tt.id, tt.embedded)
	}
	ResultSchema()[0] = 'x' // callers get a copy
	if ResultSchema()[0] != '{' {
		t.Error("ResultSchema returns shared memory")
	}
}

func TestResultEventMatchesSchema(t *testing.T) {
	sch := compileSchema(t, ResultSchemaID, ResultSchema())
	noBox := sampleResult()
	noBox.PetBBox = nil
	noBox.ClassFractions = ClassFractions{Pet: 0, Background: 0.9, Border: 0.1}
	for name, e := range map[string]ResultEvent{"with box": sampleResult(), "without box": noBox} {
		if err := e.Validate(); err != nil {
			t.Fatalf("%s: Validate: %v", name, err)
		}
		raw, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		if err := validateJSON(t, sch, raw); err != nil {
			t.Errorf("%s: schema rejects a valid event: %v\n%s", name, err, raw)
		}
	}
	raw, _ := json.Marshal(sampleResult())
	for _, want := range []string{`"processed_at":"2026-11-27T08:30:00.123456789Z"`, `"schema_version":1`, `"timings_ms":{"queue":0.4`} {
		if !bytes.Contains(raw, []byte(want)) {
			t.Errorf("JSON lacks %s:\n%s", want, raw)
		}
	}
	raw, _ = json.Marshal(noBox)
	if !bytes.Contains(raw, []byte(`"pet_bbox":null`)) {
		t.Errorf("missing box is not null:\n%s", raw)
	}
}

// mutate returns the JSON of the sample with one change applied to its
// generic form.
func mutate(t *testing.T, event any, change func(m map[string]any)) []byte {
	t.Helper()
	raw, err := json.Marshal(event)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	change(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sub(m map[string]any, key string) map[string]any { return m[key].(map[string]any) }

func TestSchemaRejectsBrokenResults(t *testing.T) {
	sch := compileSchema(t, ResultSchemaID, ResultSchema())
	tests := map[string]func(m map[string]any){
		"missing event_id":        func(m map[string]any) { delete(m, "event_id") },
		"event_id not a UUID":     func(m map[string]any) { m["event_id"] = "42" },
		"schema_version 2":        func(m map[string]any) { m["schema_version"] = 2 },
		"schema_version string":   func(m map[string]any) { m["schema_version"] = "1" },
		"unknown field":           func(m map[string]any) { m["score"] = 0.9 },
		"missing pet_bbox":        func(m map[string]any) { delete(m, "pet_bbox") },
		"bbox missing x1":         func(m map[string]any) { delete(sub(m, "pet_bbox"), "x1") },
		"bbox negative":           func(m map[string]any) { sub(m, "pet_bbox")["x0"] = -1 },
		"bbox fractional":         func(m map[string]any) { sub(m, "pet_bbox")["y1"] = 10.5 },
		"fraction above 1":        func(m map[string]any) { sub(m, "class_fractions")["pet"] = 1.2 },
		"fraction missing":        func(m map[string]any) { delete(sub(m, "class_fractions"), "border") },
		"negative timing":         func(m map[string]any) { sub(m, "timings_ms")["infer"] = -3 },
		"timing missing":          func(m map[string]any) { delete(sub(m, "timings_ms"), "total") },
		"zero width":              func(m map[string]any) { sub(m, "image")["width"] = 0 },
		"empty source key":        func(m map[string]any) { sub(m, "source")["key"] = "" },
		"source size negative":    func(m map[string]any) { sub(m, "source")["size"] = -1 },
		"source without etag":     func(m map[string]any) { delete(sub(m, "source"), "etag") },
		"mask without bucket":     func(m map[string]any) { delete(sub(m, "mask"), "bucket") },
		"mask key form unknown":   func(m map[string]any) { sub(m, "mask")["key_form"] = "hashed" },
		"empty model version":     func(m map[string]any) { sub(m, "model")["version"] = "" },
		"processed_at not a time": func(m map[string]any) { m["processed_at"] = "yesterday" },
		"processed_at a number":   func(m map[string]any) { m["processed_at"] = 1700000000 },
	}
	for name, change := range tests {
		raw := mutate(t, sampleResult(), change)
		if err := validateJSON(t, sch, raw); err == nil {
			t.Errorf("%s: schema accepts %s", name, raw)
		}
	}
}

func TestResultValidate(t *testing.T) {
	tests := map[string]func(e *ResultEvent){
		"version":           func(e *ResultEvent) { e.SchemaVersion = 0 },
		"event id":          func(e *ResultEvent) { e.EventID = "x" },
		"source key":        func(e *ResultEvent) { e.Source.Key = "" },
		"source size":       func(e *ResultEvent) { e.Source.Size = -1 },
		"mask":              func(e *ResultEvent) { e.Mask.Bucket = "" },
		"mask key form":     func(e *ResultEvent) { e.Mask.KeyForm = "hashed" },
		"model":             func(e *ResultEvent) { e.Model.Version = "" },
		"image":             func(e *ResultEvent) { e.Image.Height = 0 },
		"fraction range":    func(e *ResultEvent) { e.ClassFractions.Pet = -0.1; e.ClassFractions.Background = 1.03 },
		"fraction sum":      func(e *ResultEvent) { e.ClassFractions.Border = 0.2 },
		"bbox outside":      func(e *ResultEvent) { e.PetBBox.X1 = 501 },
		"bbox empty":        func(e *ResultEvent) { e.PetBBox.Y1 = e.PetBBox.Y0 },
		"timing negative":   func(e *ResultEvent) { e.TimingsMS.Fetch = -1 },
		"processed_at zero": func(e *ResultEvent) { e.ProcessedAt = time.Time{} },
	}
	for name, change := range tests {
		e := sampleResult()
		change(&e)
		if err := e.Validate(); !errors.Is(err, ErrInvalidEvent) {
			t.Errorf("%s: Validate() = %v, want ErrInvalidEvent", name, err)
		}
	}
}

func TestDeadLetterMatchesSchema(t *testing.T) {
	sch := compileSchema(t, DeadLetterSchemaID, DeadLetterSchema())
	withSource := sampleDeadLetter()
	withSource.Source = &ObjectRef{Bucket: "pets", Key: "x.jpg"}
	withSource.ErrorClass = ClassMissingObject
	noKey := NewDeadLetter(kafka.Message{Topic: "t", Value: []byte{0xde, 0xad, 0xbe, 0xef}}, ClassInternal, "boom", nil, time.Now())
	big := NewDeadLetter(kafka.Message{Topic: "t", Offset: 9, Value: bytes.Repeat([]byte("é"), MaxPayloadBytes)}, ClassTooLarge,
		strings.Repeat("r", 5000), nil, time.Now())
	events := map[string]DeadLetterEvent{"sample": sampleDeadLetter(), "with source": withSource, "binary without key": noKey, "oversized": big}
	for _, class := range ErrorClasses() {
		e := sampleDeadLetter()
		e.ErrorClass = class
		events["class "+string(class)] = e
	}
	for name, e := range events {
		if err := e.Validate(); err != nil {
			t.Fatalf("%s: Validate: %v", name, err)
		}
		raw, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		if err := validateJSON(t, sch, raw); err != nil {
			t.Errorf("%s: schema rejects a valid event: %v\n%.400s", name, err, raw)
		}
	}

	e := sampleDeadLetter()
	if e.FailedAt.Location() != time.UTC || e.EventID != DeadLetterEventID("vitseg.images", 2, 1234, nil) {
		t.Errorf("NewDeadLetter: failed_at %v, id %s", e.FailedAt, e.EventID)
	}
	if e.Original.Value.Encoding != EncodingUTF8 || e.Original.Value.Data != `{"bucket":"pets","key":"../x"}` {
		t.Errorf("value = %+v", e.Original.Value)
	}
	if h := e.Original.Headers[0].Value; h.Encoding != EncodingBase64 || h.Data != "/wAB" || h.Size != 3 {
		t.Errorf("binary header = %+v", h)
	}
	if noKey.Original.Key != nil {
		t.Errorf("absent key = %+v, want nil", noKey.Original.Key)
	}
	v := big.Original.Value
	if !v.Truncated || v.Size != 2*MaxPayloadBytes || v.Encoding != EncodingUTF8 || len(v.Data) != MaxPayloadBytes || !utf8.ValidString(v.Data) {
		t.Errorf("oversized value: truncated %t size %d encoding %s data %d bytes", v.Truncated, v.Size, v.Encoding, len(v.Data))
	}
	if len(big.Reason) != MaxReasonBytes {
		t.Errorf("reason is %d bytes", len(big.Reason))
	}
}

func TestSchemaRejectsBrokenDeadLetters(t *testing.T) {
	sch := compileSchema(t, DeadLetterSchemaID, DeadLetterSchema())
	tests := map[string]func(m map[string]any){
		"unknown error class": func(m map[string]any) { m["error_class"] = "oops" },
		"empty reason":        func(m map[string]any) { m["reason"] = "" },
		"missing original":    func(m map[string]any) { delete(m, "original") },
		"negative offset":     func(m map[string]any) { sub(m, "original")["offset"] = -1 },
		"value not an object": func(m map[string]any) { sub(m, "original")["value"] = "raw" },
		"bad encoding":        func(m map[string]any) { sub(sub(m, "original"), "value")["encoding"] = "hex" },
		"bad base64": func(m map[string]any) {
			sub(m, "original")["headers"].([]any)[0].(map[string]any)["value"].(map[string]any)["data"] = "%%%"
		},
		"headers null":           func(m map[string]any) { sub(m, "original")["headers"] = nil },
		"source without key":     func(m map[string]any) { m["source"] = map[string]any{"bucket": "pets"} },
		"failed_at not a time":   func(m map[string]any) { m["failed_at"] = "now" },
		"unknown field":          func(m map[string]any) { m["retries"] = 3 },
		"missing schema_version": func(m map[string]any) { delete(m, "schema_version") },
	}
	for name, change := range tests {
		raw := mutate(t, sampleDeadLetter(), change)
		if err := validateJSON(t, sch, raw); err == nil {
			t.Errorf("%s: schema accepts %s", name, raw)
		}
	}
}

func TestDeadLetterValidate(t *testing.T) {
	tests := map[string]func(e *DeadLetterEvent){
		"class":        func(e *DeadLetterEvent) { e.ErrorClass = "nope" },
		"reason":       func(e *DeadLetterEvent) { e.Reason = "" },
		"long reason":  func(e *DeadLetterEvent) { e.Reason = strings.Repeat("x", MaxReasonBytes+1) },
		"topic":        func(e *DeadLetterEvent) { e.Original.Topic = "" },
		"offset":       func(e *DeadLetterEvent) { e.Original.Offset = -2 },
		"encoding":     func(e *DeadLetterEvent) { e.Original.Value.Encoding = "hex" },
		"base64":       func(e *DeadLetterEvent) { e.Original.Headers[0].Value.Data = "%%" },
		"source":       func(e *DeadLetterEvent) { e.Source = &ObjectRef{Bucket: "pets"} },
		"failed_at":    func(e *DeadLetterEvent) { e.FailedAt = time.Time{} },
		"event id":     func(e *DeadLetterEvent) { e.EventID = "" },
		"many headers": func(e *DeadLetterEvent) { e.Original.Headers = make([]Header, MaxHeaders+1) },
	}
	for name, change := range tests {
		e := sampleDeadLetter()
		change(&e)
		if err := e.Validate(); !errors.Is(err, ErrInvalidEvent) {
			t.Errorf("%s: Validate() = %v, want ErrInvalidEvent", name, err)
		}
	}
}

func TestEventIDs(t *testing.T) {
	a := sampleResult()
	if ResultEventID(a.Source, a.Model) != a.EventID {
		t.Error("ResultEventID is not deterministic")
	}
	other := a.Source
	other.ETag = "different"
	if ResultEventID(other, a.Model) == a.EventID {
		t.Error("a new object version shares the event ID")
	}
	// Length-prefixing keeps shifted boundaries apart.
	if ResultEventID(Source{Bucket: "ab", Key: "c"}, a.Model) == ResultEventID(Source{Bucket: "a", Key: "bc"}, a.Model) {
		t.Error("bucket/key boundary collision")
	}
	if DeadLetterEventID("t", 1, 23, nil) == DeadLetterEventID("t", 12, 3, nil) {
		t.Error("partition/offset boundary collision")
	}
}

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
func TestDeadLetterOfHugeMessageFits(t *testing.T) {
	heavy := bytes.Repeat([]byte{1}, 1<<20)
	msg := kafka.Message{Topic: "vitseg.images", Offset: 7, Key: heavy, Value: heavy}
	for i := range MaxHeaders + 3 {
		msg.Headers = append(msg.Headers, kafka.Header{Key: strings.Repeat("<", 4096) + string(rune('a'+i)), Value: heavy})
	}
	e := NewDeadLetter(msg, ClassMalformedMessage, strings.Repeat("<", 5000), nil, time.Now())
	if err := e.Validate(); err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) > 512<<10 {
		t.Errorf("dead-letter event is %d bytes, want at most 512 KiB", len(raw))
	}
	t.Logf("worst-case dead-letter event: %d bytes", len(raw))
	if err := validateJSON(t, compileSchema(t, DeadLetterSchemaID, DeadLetterSchema()), raw); err != nil {
		t.Error(err)
	}
	o := e.Original
	payloads := append([]Payload{o.Value, *o.Key}, func() (ps []Payload) {
		for _, h := range o.Headers {
			if len(h.Key) > MaxHeaderKeyBytes {
				t.Errorf("header key of %d bytes kept", len(h.Key))
			}
			ps = append(ps, h.Value)
		}
		return ps
	}()...)
	kept := 0
	for _, p := range payloads {
		b, err := p.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		kept += len(b)
		if p.Size != len(heavy) || !p.Truncated {
			t.Errorf("payload size %d truncated %t, want %d truncated", p.Size, p.Truncated, len(heavy))
		}
	}
	if kept != MaxOriginalBytes || len(o.Headers) != MaxHeaders {
		t.Errorf("kept %d payload bytes and %d headers, want %d and %d", kept, len(o.Headers), MaxOriginalBytes, MaxHeaders)
	}
}

func TestNewResult(t *testing.T) {
	want := sampleResult()
	local := want.ProcessedAt.In(time.FixedZone("UTC+2", 2*3600))
	e := NewResult(want.Source, want.Model, want.Mask, local)
	if e.SchemaVersion != SchemaVersion || e.EventID != want.EventID || e.ProcessedAt.Location() != time.UTC ||
		!e.ProcessedAt.Equal(want.ProcessedAt) || e.Source != want.Source || e.Mask != want.Mask || e.Model != want.Model {
		t.Fatalf("NewResult = %+v", e)
	}
	e.Image, e.ClassFractions, e.PetBBox, e.TimingsMS = want.Image, want.ClassFractions, want.PetBBox, want.TimingsMS
	if err := e.Validate(); err != nil {
		t.Fatalf("NewResult with the caller's fields filled in: %v", err)
	}
}
