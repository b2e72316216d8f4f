package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/segmentio/kafka-go"

	"github.com/vitseg/vitseg/internal/ops/reconcile"
)

// TestReconcileFindsWhatIsMissing: after a run in which every object got a result or a dead letter,
// `vitseg reconcile` says complete and exits 0. Once a mask is deleted and an object is uploaded that no
// reference ever named, it names both and exits 1, in text and in JSON.
func TestReconcileFindsWhatIsMissing(t *testing.T) {
	s := startStack(t, stackConfig{})
	l := s.newLedger(t)
	s.startServe(t, serveConfig{model: tinyModel(t, 1), args: []string{"--allow", bucket + "/" + manual}})
	photos := samplePhotos(t)
	good := []string{manual + "a.jpg", manual + "b.jpg", manual + "c.jpg"}
	var refs []kafka.Message
	for i, k := range good {
		s.put(t, bucket, k, photos[i])
		refs = append(refs, kafka.Message{Key: []byte(k), Value: ref(bucket, k)})
	}
	s.put(t, bucket, manual+"bad.jpg", []byte("not an image"))
	refs = append(refs, kafka.Message{Key: []byte("bad"), Value: ref(bucket, manual+"bad.jpg")})
	s.produce(t, inputTopic, refs...)
	l.waitResults(t, good, len(good), 60*time.Second)
	waitFor(t, 60*time.Second, "the dead letter", func() bool { return len(l.deadLetters(t)) == 1 })

	args := []string{"reconcile", "--bucket", bucket, "--prefix", manual}
	out, errOut, code := s.cli(t, args...)
	if code != 0 || !strings.Contains(out, "4 objects: 3 processed, 0 duplicated, 1 dead-lettered, 0 missing; 0 results with a missing mask") ||
		!strings.Contains(out, "dead-lettered  pets/manual/bad.jpg: bad_image") {
		t.Fatalf("reconcile of a complete run (exit %d):\n%s%s", code, out, errOut)
	}

	mask := l.resultsByKey(t)[good[1]][0].Mask
	if err := s.s3.RemoveObject(context.Background(), mask.Bucket, mask.Key, minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	s.put(t, bucket, manual+"never.jpg", photos[3])
	out, errOut, code = s.cli(t, args...)
	if code != 1 || !strings.Contains(out, "MISSING        pets/manual/never.jpg: no result or dead-letter event") ||
		!strings.Contains(out, "MASK MISSING   pets/"+mask.Key) || !strings.Contains(errOut, "1 objects missing, 1 masks missing") {
		t.Fatalf("reconcile with a lost mask and a never-processed object (exit %d, want 1):\n%s%s", code, out, errOut)
	}

	out, _, code = s.cli(t, append(args, "--json")...)
	var rep reconcile.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("reconcile --json: %v\n%s", err, out)
	}
	if code != 1 || rep.Complete() || rep.Counts[reconcile.StatusMissing] != 1 || rep.Counts[reconcile.StatusProcessed] != 3 ||
		len(rep.MissingMasks) != 1 || rep.MissingMasks[0].Mask != mask.Object() {
		t.Errorf("reconcile --json (exit %d): %+v", code, rep)
	}
	t.Logf("FIGURES reconcile: %v, missing masks %d", rep.Counts, len(rep.MissingMasks))
}
