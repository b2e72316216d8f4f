package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/png"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/vitseg/vitseg/events"
	"github.com/vitseg/vitseg/internal/testsupport/imagetest"
)

// propItem is one generated input of TestStreamProperty: the message, and what must come of it.
type propItem struct {
	id     string // the input message's Kafka key: how its dead letter is found
	value  []byte
	kind   string            // what was generated, for the failure messages and the tally
	key    string            // source key of an expected result
	etag   string            // ETag the result must carry (the object's content at fetch time)
	class  events.ErrorClass // expected dead-letter class; "" with a result or when ignored
	ignore bool              // committed without any event
	early  bool              // must come early in the stream (a damaged object needs others around it)
}

// propGen generates the items against a running stack; every S3 side effect happens as it generates.
type propGen struct {
	t     *testing.T
	s     *stack
	r     *rand.Rand
	items []*propItem
	taken map[string]bool // keys used, and every directory prefix of them
	good  [][]byte        // valid photos of every supported format
	bad   map[string][]byte
}

// keyScripts are the alphabets keys are drawn from: ASCII, Latin, Cyrillic, CJK, emoji, Arabic, punctuation.
var keyScripts = []string{"abcdefghijklmnopqrstuvwxyz0123456789", "éüßñøåçÉ", "жщяфывЖ", "猫犬写真鳥", "🐈🐕📷🌸",
	"قطةكلب", " +%&=,;@!$'()~-_"}

func newPropGen(t *testing.T, s *stack, seed uint64) *propGen {
	g := &propGen{t: t, s: s, r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), taken: map[string]bool{}}
	g.good, g.bad = propImages(t)
	return g
}

// propImages returns valid images of every supported format and malformed or oversized ones of each.
func propImages(t *testing.T) (good [][]byte, bad map[string][]byte) {
	t.Helper()
	grad := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for y := range 48 {
		for x := range 64 {
			grad.Set(x, y, color.RGBA{uint8(4 * x), uint8(5 * y), uint8(255 - 3*x), 255})
		}
	}
	var pngBuf, gifBuf bytes.Buffer
	if err := png.Encode(&pngBuf, grad); err != nil {
		t.Fatal(err)
	}
	if err := gif.Encode(&gifBuf, grad, nil); err != nil {
		t.Fatal(err)
	}
	webp, err := os.ReadFile(filepath.Join(env.repoRoot, "model", "imaging", "testdata", "webp", "blue-purple-pink.lossy.webp"))
	if err != nil {
		t.Fatal(err)
	}
	jpegs := samplePhotos(t)
	formats := map[string][]byte{"jpeg": jpegs[0], "png": pngBuf.Bytes(), "gif": gifBuf.Bytes(), "webp": webp,
		"bmp": imagetest.BMP(grad), "tiff": imagetest.TIFF(grad, true)}
	good = append([][]byte(nil), jpegs...)
	gifBomb := append([]byte("GIF89a\xff\xff\xff\xff\x00\x00\x00"), ';')
	bad = map[string][]byte{
		"bomb-png": imagetest.PNGHeaderOnly(50000, 50000), "bomb-jpeg": imagetest.JPEGHeaderOnly(65000, 65000),
		"bomb-gif": gifBomb, "bomb-webp": imagetest.WebPHeaderOnly(40000, 40000),
		"bomb-bmp": imagetest.BMPHeaderOnly(50000, 50000), "bomb-tiff": imagetest.TIFFHeaderOnly(50000, 50000),
		"oversize": append(append([]byte(nil), jpegs[0]...), make([]byte, 1<<20)...),
	}
	for _, name := range []string{"jpeg", "png", "gif", "webp", "bmp", "tiff"} {
		data := formats[name]
		good = append(good, data)
		bad["truncated-"+name] = data[:len(data)/2]
		bad["garbage-"+name] = append(append([]byte(nil), data[:min(len(data), 16)]...), bytes.Repeat([]byte("junk"), 64)...)
	}
	bad["empty"], bad["text"] = []byte{}, []byte("not an image at all\n")
	return good, bad
}

// newKey returns an unused source key of n bytes (n >= 1) drawn from one or two scripts, in segments of at
// most 200 bytes, that MinIO can store beside every other key (no key is a directory of another).
func (g *propGen) newKey(n int) string {
	for range 1000 {
		k := g.drawKey(n)
		if g.free(k) {
			g.take(k)
			return k
		}
	}
	g.t.Fatalf("no free key of %d bytes", n)
	return ""
}

func (g *propGen) drawKey(n int) string {
	alpha := []rune(keyScripts[g.r.IntN(len(keyScripts))] + keyScripts[g.r.IntN(len(keyScripts))])
	var b strings.Builder
	seg := 0
	for b.Len() < n {
		c := string(alpha[g.r.IntN(len(alpha))])
		switch left := n - b.Len(); {
		case seg >= 40 && left > 1 && g.r.IntN(30) == 0 || seg+len(c) > 200 && left > 1:
			c, seg = "/", -1
		case len(c) > left:
			c = "x"
		}
		b.WriteString(c)
		seg += len(c)
	}
	return b.String()
}

// free reports whether k can be stored beside the keys taken: not one of them, not a directory of one, no
// directory of it an object, no empty, "." or ".." segment, outside the prefixes the stack treats specially.
func (g *propGen) free(k string) bool {
	if g.taken[k] || strings.HasPrefix(k, outputPrefix) || strings.HasPrefix(k, uploads) || strings.HasPrefix(k, "/") {
		return false
	}
	segs := strings.Split(k, "/")
	for i, seg := range segs {
		if seg == "" || seg == "." || seg == ".." || strings.TrimSpace(seg) != seg {
			return false
		}
		if i < len(segs)-1 && g.taken[strings.Join(segs[:i+1], "/")] {
			return false
		}
	}
	return true
}

func (g *propGen) take(k string) {
	segs := strings.Split(k, "/")
	for i := range segs {
		g.taken[strings.Join(segs[:i+1], "/")] = true
	}
}

// keyLength draws a key length from 1 to 1,024 bytes, a third of them at the boundaries.
func (g *propGen) keyLength() int {
	if g.r.IntN(3) == 0 {
		edges := []int{1, 2, 3, 4, 1000, 1013, 1023, 1024}
		return edges[g.r.IntN(len(edges))]
	}
	return 1 + g.r.IntN(1024)
}

// put stores an object and returns its ETag.
func (g *propGen) put(bkt, key string, data []byte) string {
	g.t.Helper()
	info, err := g.s.s3.PutObject(context.Background(), bkt, key, bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{})
	if err != nil {
		g.t.Fatalf("put %s/%.60q (%d bytes): %v", bkt, key, len(key), err)
	}
	return info.ETag
}

// add appends an item delivered as a plain reference, or as a bucket notification when notify is set.
func (g *propGen) add(it *propItem, bkt, key string, notify bool) {
	it.id = fmt.Sprintf("item-%04d", len(g.items))
	if notify {
		it.value = notificationMsg("s3:ObjectCreated:Put", bkt, url.QueryEscape(key))
	} else {
		it.value = ref(bkt, key)
	}
	g.items = append(g.items, it)
}

// notificationMsg is a one-record bucket notification with an already URL-encoded key.
func notificationMsg(event, bkt, escapedKey string) []byte {
	b, err := json.Marshal(map[string]any{"EventName": event, "Key": bkt + "/" + escapedKey,
		"Records": []map[string]any{{"eventVersion": "2.0", "eventSource": "minio:s3", "eventName": event,
			"s3": map[string]any{"bucket": map[string]string{"name": bkt}, "object": map[string]any{"key": escapedKey, "size": 1}}}}})
	if err != nil {
		panic(err)
	}
	return b
}

// generate makes n good photos and, around them, every kind of hostile input, then shuffles them (the items
// that must come early into the first third).
func (g *propGen) generate(n int) {
	for range n {
		k := g.newKey(g.keyLength())
		it := &propItem{kind: "good", key: k}
		it.etag = g.put(bucket, k, g.good[g.r.IntN(len(g.good))])
		g.add(it, bucket, k, g.r.IntN(2) == 0)
	}
	g.badObjects(n)
	g.badReferences(n / 4)
	g.badMessages(n / 4)
	g.shuffle()
}

// badObjects adds references to objects that exist but cannot be segmented, that vanished, that were replaced
// after their notification, and that are damaged on the drive.
func (g *propGen) badObjects(n int) {
	names := make([]string, 0, len(g.bad))
	for name := range g.bad {
		names = append(names, name)
	}
	slices.Sort(names)
	for i := range n {
		name := names[i%len(names)]
		class := events.ClassBadImage
		if strings.HasPrefix(name, "bomb-") || name == "oversize" {
			class = events.ClassTooLarge
		}
		k := g.newKey(g.keyLength())
		g.put(bucket, k, g.bad[name])
		g.add(&propItem{kind: name, class: class}, bucket, k, g.r.IntN(2) == 0)
	}
	for i := range n / 4 {
		k := g.newKey(g.keyLength())
		if i%2 == 0 { // vanished: deleted after its notification
			g.put(bucket, k, g.good[0])
			if err := g.s.s3.RemoveObject(context.Background(), bucket, k, minio.RemoveObjectOptions{}); err != nil {
				g.t.Fatal(err)
			}
		}
		g.add(&propItem{kind: "vanished", class: events.ClassMissingObject}, bucket, k, true)
	}
	for i := range n / 4 { // replaced after the notification: what is fetched counts
		k := g.newKey(g.keyLength())
		g.put(bucket, k, g.good[0])
		it := &propItem{kind: "replaced-by-photo", key: k}
		if i%2 == 0 {
			it = &propItem{kind: "replaced-by-text", class: events.ClassBadImage}
			g.put(bucket, k, g.bad["text"])
		} else {
			it.etag = g.put(bucket, k, g.good[1])
		}
		g.add(it, bucket, k, true)
	}
	for range 3 {
		k := g.newKey(8 + g.r.IntN(200))
		g.put(bucket, k, g.good[2])
		g.s.minio.Damage(bucket, k)
		g.add(&propItem{kind: "damaged-on-drive", class: events.ClassRetriesExhausted, early: true}, bucket, k, false)
	}
}

// badReferences adds references that must be refused before any fetch.
func (g *propGen) badReferences(n int) {
	long := strings.Repeat("k", 1025)
	for i := range n {
		k := g.newKey(1 + g.r.IntN(100))
		cases := []struct {
			kind, bkt, key string
			class          events.ErrorClass
		}{
			{"control-character", bucket, k + string(rune(1+g.r.IntN(31))), events.ClassMalformedMessage},
			{"delete-character", bucket, k + "\x7f", events.ClassMalformedMessage},
			{"dot-dot", bucket, "a/../" + k, events.ClassMalformedMessage},
			{"key-over-1024", bucket, long, events.ClassMalformedMessage},
			{"bucket-off-the-list", otherBucket, k, events.ClassNotAllowed},
			{"bucket-invalid", []string{"A_B", "ab", "-pets", "pets..x", strings.Repeat("b", 64)}[i%5], k, events.ClassMalformedMessage},
		}
		c := cases[i%len(cases)]
		g.add(&propItem{kind: c.kind, class: c.class}, c.bkt, c.key, false)
		if i%3 == 0 { // and as a notification whose key is not UTF-8
			g.add(&propItem{kind: "key-not-utf8", class: events.ClassMalformedMessage}, bucket, "", false)
			g.items[len(g.items)-1].value = notificationMsg("s3:ObjectCreated:Put", bucket, url.QueryEscape(k)+"%ff%fe")
		}
	}
}

// badMessages adds messages that are not references at all, and some that ask for no work.
func (g *propGen) badMessages(n int) {
	values := [][]byte{[]byte(`{"bucket": "pets", "key":`), {}, []byte("\x00\x01\x02 binary"), []byte(`{"hello": "world"}`),
		[]byte(`[1, 2, 3]`), []byte(`{"Records": []}`)}
	for i := range n {
		g.add(&propItem{kind: "malformed-message", class: events.ClassMalformedMessage}, bucket, "", false)
		g.items[len(g.items)-1].value = values[i%len(values)]
	}
	for i := range max(2, n/4) {
		g.add(&propItem{kind: "ignored", ignore: true}, bucket, outputPrefix+g.newKey(10+i), false)
		g.add(&propItem{kind: "ignored", ignore: true}, bucket, "", false)
		g.items[len(g.items)-1].value = notificationMsg("s3:ObjectRemoved:Delete", bucket, "gone")
	}
}

// shuffle orders the items randomly, the early ones within the first third.
func (g *propGen) shuffle() {
	var early, rest []*propItem
	for _, it := range g.items {
		if it.early {
			early = append(early, it)
		} else {
			rest = append(rest, it)
		}
	}
	g.r.Shuffle(len(rest), func(i, j int) { rest[i], rest[j] = rest[j], rest[i] })
	for _, it := range early {
		at := g.r.IntN(len(rest)/3 + 1)
		rest = slices.Insert(rest, at, it)
	}
	g.items = rest
}
