package events_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/segmentio/kafka-go"

	"github.com/vitseg/vitseg/events"
	"github.com/vitseg/vitseg/events/eventstest"
)

func TestSchemasArePublishedAndEmbedded(t *testing.T) {
	for _, tt := range []struct {
		file, id string
		embedded []byte
	}{
		{"schema/result-v1.json", events.ResultSchemaID, events.ResultSchema()},
		{"schema/deadletter-v1.json", events.DeadLetterSchemaID, events.DeadLetterSchema()},
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
		eventstest.CompileSchema(t, tt.id, tt.embedded)
	}
	events.ResultSchema()[0] = 'x' // callers get a copy
	if events.ResultSchema()[0] != '{' {
		t.Error("ResultSchema returns shared memory")
	}
}

func TestResultEventMatchesSchema(t *testing.T) {
	sch := eventstest.CompileSchema(t, events.ResultSchemaID, events.ResultSchema())
	noBox := eventstest.Result()
	noBox.PetBBox = nil
	noBox.ClassFractions = events.ClassFractions{Pet: 0, Background: 0.9, Border: 0.1}
	for name, e := range map[string]events.ResultEvent{"with box": eventstest.Result(), "without box": noBox} {
		if err := e.Validate(); err != nil {
			t.Fatalf("%s: Validate: %v", name, err)
		}
		raw, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		if err := eventstest.ValidateJSON(t, sch, raw); err != nil {
			t.Errorf("%s: schema rejects a valid event: %v\n%s", name, err, raw)
		}
	}
	raw, _ := json.Marshal(eventstest.Result())
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
	sch := eventstest.CompileSchema(t, events.ResultSchemaID, events.ResultSchema())
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
		raw := mutate(t, eventstest.Result(), change)
		if err := eventstest.ValidateJSON(t, sch, raw); err == nil {
			t.Errorf("%s: schema accepts %s", name, raw)
		}
	}
}

func TestResultValidate(t *testing.T) {
	tests := map[string]func(e *events.ResultEvent){
		"version":           func(e *events.ResultEvent) { e.SchemaVersion = 0 },
		"event id":          func(e *events.ResultEvent) { e.EventID = "x" },
		"source key":        func(e *events.ResultEvent) { e.Source.Key = "" },
		"source size":       func(e *events.ResultEvent) { e.Source.Size = -1 },
		"mask":              func(e *events.ResultEvent) { e.Mask.Bucket = "" },
		"mask key form":     func(e *events.ResultEvent) { e.Mask.KeyForm = "hashed" },
		"model":             func(e *events.ResultEvent) { e.Model.Version = "" },
		"image":             func(e *events.ResultEvent) { e.Image.Height = 0 },
		"fraction range":    func(e *events.ResultEvent) { e.ClassFractions.Pet = -0.1; e.ClassFractions.Background = 1.03 },
		"fraction sum":      func(e *events.ResultEvent) { e.ClassFractions.Border = 0.2 },
		"bbox outside":      func(e *events.ResultEvent) { e.PetBBox.X1 = 501 },
		"bbox empty":        func(e *events.ResultEvent) { e.PetBBox.Y1 = e.PetBBox.Y0 },
		"timing negative":   func(e *events.ResultEvent) { e.TimingsMS.Fetch = -1 },
		"processed_at zero": func(e *events.ResultEvent) { e.ProcessedAt = time.Time{} },
	}
	for name, change := range tests {
		e := eventstest.Result()
		change(&e)
		if err := e.Validate(); !errors.Is(err, events.ErrInvalidEvent) {
			t.Errorf("%s: Validate() = %v, want ErrInvalidEvent", name, err)
		}
	}
}

func TestDeadLetterMatchesSchema(t *testing.T) {
	sch := eventstest.CompileSchema(t, events.DeadLetterSchemaID, events.DeadLetterSchema())
	withSource := eventstest.DeadLetter()
	withSource.Source = &events.ObjectRef{Bucket: "pets", Key: "x.jpg"}
	withSource.ErrorClass = events.ClassMissingObject
	noKey := events.NewDeadLetter(kafka.Message{Topic: "t", Value: []byte{0xde, 0xad, 0xbe, 0xef}}, events.ClassInternal, "boom", nil, time.Now())
	big := events.NewDeadLetter(kafka.Message{Topic: "t", Offset: 9, Value: bytes.Repeat([]byte("é"), events.MaxPayloadBytes)}, events.ClassTooLarge,
		strings.Repeat("r", 5000), nil, time.Now())
	letters := map[string]events.DeadLetterEvent{"sample": eventstest.DeadLetter(), "with source": withSource, "binary without key": noKey, "oversized": big}
	for _, class := range events.ErrorClasses() {
		e := eventstest.DeadLetter()
		e.ErrorClass = class
		letters["class "+string(class)] = e
	}
	for name, e := range letters {
		if err := e.Validate(); err != nil {
			t.Fatalf("%s: Validate: %v", name, err)
		}
		raw, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		if err := eventstest.ValidateJSON(t, sch, raw); err != nil {
			t.Errorf("%s: schema rejects a valid event: %v\n%.400s", name, err, raw)
		}
	}

	e := eventstest.DeadLetter()
	if e.FailedAt.Location() != time.UTC || e.EventID != events.DeadLetterEventID("vitseg.images", 2, 1234, nil) {
		t.Errorf("NewDeadLetter: failed_at %v, id %s", e.FailedAt, e.EventID)
	}
	if e.Original.Value.Encoding != events.EncodingUTF8 || e.Original.Value.Data != `{"bucket":"pets","key":"../x"}` {
		t.Errorf("value = %+v", e.Original.Value)
	}
	if h := e.Original.Headers[0].Value; h.Encoding != events.EncodingBase64 || h.Data != "/wAB" || h.Size != 3 {
		t.Errorf("binary header = %+v", h)
	}
	if noKey.Original.Key != nil {
		t.Errorf("absent key = %+v, want nil", noKey.Original.Key)
	}
	v := big.Original.Value
	if !v.Truncated || v.Size != 2*events.MaxPayloadBytes || v.Encoding != events.EncodingUTF8 || len(v.Data) != events.MaxPayloadBytes || !utf8.ValidString(v.Data) {
		t.Errorf("oversized value: truncated %t size %d encoding %s data %d bytes", v.Truncated, v.Size, v.Encoding, len(v.Data))
	}
	if len(big.Reason) != events.MaxReasonBytes {
		t.Errorf("reason is %d bytes", len(big.Reason))
	}
}

func TestSchemaRejectsBrokenDeadLetters(t *testing.T) {
	sch := eventstest.CompileSchema(t, events.DeadLetterSchemaID, events.DeadLetterSchema())
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
		raw := mutate(t, eventstest.DeadLetter(), change)
		if err := eventstest.ValidateJSON(t, sch, raw); err == nil {
			t.Errorf("%s: schema accepts %s", name, raw)
		}
	}
}

func TestDeadLetterValidate(t *testing.T) {
	tests := map[string]func(e *events.DeadLetterEvent){
		"class":        func(e *events.DeadLetterEvent) { e.ErrorClass = "nope" },
		"reason":       func(e *events.DeadLetterEvent) { e.Reason = "" },
		"long reason":  func(e *events.DeadLetterEvent) { e.Reason = strings.Repeat("x", events.MaxReasonBytes+1) },
		"topic":        func(e *events.DeadLetterEvent) { e.Original.Topic = "" },
		"offset":       func(e *events.DeadLetterEvent) { e.Original.Offset = -2 },
		"encoding":     func(e *events.DeadLetterEvent) { e.Original.Value.Encoding = "hex" },
		"base64":       func(e *events.DeadLetterEvent) { e.Original.Headers[0].Value.Data = "%%" },
		"source":       func(e *events.DeadLetterEvent) { e.Source = &events.ObjectRef{Bucket: "pets"} },
		"failed_at":    func(e *events.DeadLetterEvent) { e.FailedAt = time.Time{} },
		"event id":     func(e *events.DeadLetterEvent) { e.EventID = "" },
		"many headers": func(e *events.DeadLetterEvent) { e.Original.Headers = make([]events.Header, events.MaxHeaders+1) },
	}
	for name, change := range tests {
		e := eventstest.DeadLetter()
		change(&e)
		if err := e.Validate(); !errors.Is(err, events.ErrInvalidEvent) {
			t.Errorf("%s: Validate() = %v, want ErrInvalidEvent", name, err)
		}
	}
}

func TestEventIDs(t *testing.T) {
	a := eventstest.Result()
	if events.ResultEventID(a.Source, a.Model) != a.EventID {
		t.Error("ResultEventID is not deterministic")
	}
	other := a.Source
	other.ETag = "different"
	if events.ResultEventID(other, a.Model) == a.EventID {
		t.Error("a new object version shares the event ID")
	}
	// Length-prefixing keeps shifted boundaries apart.
	if events.ResultEventID(events.Source{Bucket: "ab", Key: "c"}, a.Model) == events.ResultEventID(events.Source{Bucket: "a", Key: "bc"}, a.Model) {
		t.Error("bucket/key boundary collision")
	}
	if events.DeadLetterEventID("t", 1, 23, nil) == events.DeadLetterEventID("t", 12, 3, nil) {
		t.Error("partition/offset boundary collision")
	}
}

func TestDeadLetterOfHugeMessageFits(t *testing.T) {
	heavy := bytes.Repeat([]byte{1}, 1<<20)
	msg := kafka.Message{Topic: "vitseg.images", Offset: 7, Key: heavy, Value: heavy}
	for i := range events.MaxHeaders + 3 {
		msg.Headers = append(msg.Headers, kafka.Header{Key: strings.Repeat("<", 4096) + string(rune('a'+i)), Value: heavy})
	}
	e := events.NewDeadLetter(msg, events.ClassMalformedMessage, strings.Repeat("<", 5000), nil, time.Now())
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
	if err := eventstest.ValidateJSON(t, eventstest.CompileSchema(t, events.DeadLetterSchemaID, events.DeadLetterSchema()), raw); err != nil {
		t.Error(err)
	}
	o := e.Original
	payloads := append([]events.Payload{o.Value, *o.Key}, func() (ps []events.Payload) {
		for _, h := range o.Headers {
			if len(h.Key) > events.MaxHeaderKeyBytes {
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
	if kept != events.MaxOriginalBytes || len(o.Headers) != events.MaxHeaders {
		t.Errorf("kept %d payload bytes and %d headers, want %d and %d", kept, len(o.Headers), events.MaxOriginalBytes, events.MaxHeaders)
	}
}

func TestNewResult(t *testing.T) {
	want := eventstest.Result()
	local := want.ProcessedAt.In(time.FixedZone("UTC+2", 2*3600))
	e := events.NewResult(want.Source, want.Model, want.Mask, local)
	if e.SchemaVersion != events.SchemaVersion || e.EventID != want.EventID || e.ProcessedAt.Location() != time.UTC ||
		!e.ProcessedAt.Equal(want.ProcessedAt) || e.Source != want.Source || e.Mask != want.Mask || e.Model != want.Model {
		t.Fatalf("NewResult = %+v", e)
	}
	e.Image, e.ClassFractions, e.PetBBox, e.TimingsMS = want.Image, want.ClassFractions, want.PetBBox, want.TimingsMS
	if err := e.Validate(); err != nil {
		t.Fatalf("NewResult with the caller's fields filled in: %v", err)
	}
}
