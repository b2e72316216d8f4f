package e2e

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/segmentio/kafka-go"

	"github.com/vitseg/vitseg/internal/testsupport/testenv"
)

// noSecret fails the test if secret appears in text.
func noSecret(t *testing.T, where, text, secret string) {
	t.Helper()
	if secret == "" {
		t.Fatal("empty secret")
	}
	if strings.Contains(text, secret) {
		t.Errorf("%s contains a secret", where)
	}
}

// listAll returns bucket/key of every object of the buckets.
func (s *stack) listAll(t *testing.T, buckets ...string) []string {
	t.Helper()
	var out []string
	for _, b := range buckets {
		for obj := range s.s3.ListObjects(context.Background(), b, minio.ListObjectsOptions{Recursive: true}) {
			if obj.Err != nil {
				t.Fatal(obj.Err)
			}
			out = append(out, b+"/"+obj.Key)
		}
	}
	slices.Sort(out)
	return out
}

// TestSecurity runs the pipeline against MinIO over TLS (certificate verified with --s3-ca-file) end to end,
// checks that the allow-list bounds what is read and the output prefix what is written, that a server
// certificate it cannot verify is refused, and that neither the S3 secret key nor a SASL password (given as a
// flag, sent to a broker that refuses it) nor a wrong secret appears in the full debug logs, /metrics or /readyz of any of these runs.
func TestSecurity(t *testing.T) {
	s := startStack(t, stackConfig{minio: []testenv.MinIOOption{testenv.WithTLS()}})
	secret := s.minio.SecretKey()
	l := s.newLedger(t)
	s.minio.MakeBucket("private")
	s.put(t, "private", "secret.jpg", photo(t, "Abyssinian_1.jpg"))
	s.put(t, bucket, "elsewhere/secret.jpg", photo(t, "Abyssinian_1.jpg"))
	before := s.listAll(t, bucket, "private")

	// 1. TLS end to end, debug logs.
	srv := s.startServe(t, serveConfig{name: "serve-tls", model: tinyModel(t, 1), args: []string{"--log-level", "debug"}})
	keys := s.uploadPhotos(t, samplePhotos(t), names("tls", 10)...)
	s.produce(t, inputTopic,
		kafka.Message{Key: []byte("not-allowed-bucket"), Value: ref("private", "secret.jpg")},
		kafka.Message{Key: []byte("not-allowed-prefix"), Value: ref(bucket, "elsewhere/secret.jpg")},
		kafka.Message{Key: []byte("dotdot"), Value: ref(bucket, uploads+"../elsewhere/secret.jpg")})
	l.waitResults(t, keys, len(keys), 90*time.Second)
	waitFor(t, 60*time.Second, "three dead letters", func() bool { return len(l.deads.snapshot()) == 3 })
	waitFor(t, 60*time.Second, "the input to be committed", s.allCommitted)
	classes := map[string]int{}
	for _, d := range l.deadLetters(t) {
		classes[string(d.ErrorClass)]++
	}
	if classes["not_allowed"] != 2 || classes["malformed_message"] != 1 {
		t.Errorf("dead letters by class %v, want 2 not_allowed and 1 malformed_message", classes)
	}
	// Reads: only the allowed objects were fetched (the fetch stage counts each successful download).
	if n := srv.metric("vitseg_stage_seconds_count", `stage="fetch"`); n != float64(len(keys)) {
		t.Errorf("%v objects fetched, want the %d allowed ones", n, len(keys))
	}
	// Writes: the only new objects are the masks, under the output prefix of the source bucket.
	var added []string
	for _, o := range s.listAll(t, bucket, "private") {
		if !slices.Contains(before, o) && !slices.Contains(keys, strings.TrimPrefix(o, bucket+"/")) {
			added = append(added, o)
		}
	}
	for _, o := range added {
		if !strings.HasPrefix(o, bucket+"/"+outputPrefix+uploads) || !strings.HasSuffix(o, ".mask.png") {
			t.Errorf("object %s written outside %s/%s", o, bucket, outputPrefix)
		}
	}
	if len(added) != len(keys) {
		t.Errorf("%d objects written, want %d masks", len(added), len(keys))
	}
	serving := srv.logLines("serving")
	if len(serving) != 1 || !strings.Contains(srv.logs(), `"tls":true`) {
		t.Errorf("the serving line does not show TLS to S3: %v", serving)
	}
	_, metrics, err := srv.get("/metrics")
	if err != nil {
		t.Fatal(err)
	}
	_, ready, err := srv.get("/readyz")
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.stop(); err != nil {
		t.Error(err)
	}
	noSecret(t, "the TLS run's log", srv.logs(), secret)
	noSecret(t, "/metrics", string(metrics), secret)
	noSecret(t, "/readyz", string(ready), secret)

	// 2. A certificate it cannot verify (no --s3-ca-file): S3 is not ready, the error names the certificate.
	noCA := s.startServe(t, serveConfig{name: "serve-no-ca", model: tinyModel(t, 1), noWait: true, args: []string{"--s3-ca-file=", "--drain-timeout", "2s"}})
	r := noCA.waitReadyz(t, http.StatusServiceUnavailable, 30*time.Second)
	if r.S3 {
		t.Errorf("readyz without the CA: %+v, want S3 down", r)
	}
	s.uploadPhotos(t, samplePhotos(t), "unverified.jpg")
	waitFor(t, 30*time.Second, "a certificate error in the log", func() bool {
		return strings.Contains(noCA.logs(), "certificate signed by unknown authority")
	})
	if err := noCA.stop(); err != nil {
		t.Error(err)
	}
	noSecret(t, "the no-CA run's log", noCA.logs(), secret)

	// 3. SASL PLAIN configured (the password as a flag) against a broker that knows no such user, the S3 secret
	// from a file: authentication fails, Kafka is not ready, and neither secret is logged.
	const saslPassword = "sasl-pw-3b1f6c0e9d2a47c8"
	secretFile := filepath.Join(t.TempDir(), "s3-secret")
	if err := os.WriteFile(secretFile, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	sasl := s.startServe(t, serveConfig{name: "serve-sasl", model: tinyModel(t, 1), noWait: true,
		env: []string{"VITSEG_S3_SECRET_KEY="},
		args: []string{"--log-level", "debug", "--s3-secret-key-file", secretFile, "--drain-timeout", "2s",
			"--kafka-sasl-mechanism", "plain", "--kafka-sasl-username", "vitseg", "--kafka-sasl-password", saslPassword}})
	waitFor(t, 30*time.Second, "readyz to report S3 up and Kafka down", func() bool {
		code, r := sasl.readyz()
		return code == http.StatusServiceUnavailable && r.ModelLoaded && r.S3 && !r.Kafka
	})
	waitFor(t, 30*time.Second, "the SASL failure in the log", func() bool {
		return strings.Contains(sasl.logs(), "SASL Authentication Failed")
	})
	_, metrics, _ = sasl.get("/metrics")
	if err := sasl.stop(); err != nil {
		t.Error(err)
	}
	for _, v := range []string{saslPassword, secret} {
		noSecret(t, "the SASL run's log", sasl.logs(), v)
		noSecret(t, "the SASL run's /metrics", string(metrics), v)
	}

	// 4. A wrong S3 secret: every fetch fails authentication, and the wrong secret is not logged either.
	const wrongSecret = "wrong-secret-7f3e9a1c5b2d"
	wrong := s.startServe(t, serveConfig{name: "serve-wrong-secret", model: tinyModel(t, 1), noWait: true,
		env: []string{"VITSEG_S3_SECRET_KEY=" + wrongSecret}, args: []string{"--log-level", "debug", "--drain-timeout", "2s"}})
	s.uploadPhotos(t, samplePhotos(t), "wrong-secret.jpg")
	waitFor(t, 60*time.Second, "the fetch to fail on the signature", func() bool {
		return strings.Contains(wrong.logs(), "SignatureDoesNotMatch") || strings.Contains(wrong.logs(), "signature we calculated")
	})
	if err := wrong.stop(); err != nil {
		t.Error(err)
	}
	noSecret(t, "the wrong-secret run's log", wrong.logs(), wrongSecret)
	noSecret(t, "the wrong-secret run's log", wrong.logs(), secret)
	t.Logf("FIGURES security tls_masks=%d dead_letters=%v log_bytes_checked=%d", len(added), classes,
		len(srv.logs())+len(noCA.logs())+len(sasl.logs())+len(wrong.logs()))
}
