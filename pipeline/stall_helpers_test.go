package pipeline_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/vitseg/vitseg/pipeline"
)

// putObject stores data under key in the pets bucket.
func (s *stack) putObject(t *testing.T, key string, data []byte) {
	t.Helper()
	if _, err := s.s3.PutObject(context.Background(), bucket, key, bytes.NewReader(data), int64(len(data)),
		minio.PutObjectOptions{ContentType: "application/octet-stream"}); err != nil {
		t.Fatal(err)
	}
}

// waitCommittedToEnd waits until the group has committed every partition of the input topic to its end.
func (s *stack) waitCommittedToEnd(t *testing.T) {
	t.Helper()
	waitFor(t, 30*time.Second, "the input committed to the end", func() bool {
		ends, done := s.endOffsets(t), s.committedOffsets(t)
		for p, end := range ends {
			if end > 0 && done[p] != end {
				return false
			}
		}
		return true
	})
}

// readyz returns the status code and the report of the pipeline's /readyz.
func (in *instance) readyz(t *testing.T) (int, pipeline.Status) {
	t.Helper()
	rec := httptest.NewRecorder()
	in.p.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	var st pipeline.Status
	if err := json.Unmarshal(rec.Body.Bytes(), &st); err != nil {
		t.Fatalf("/readyz body %q: %v", rec.Body, err)
	}
	return rec.Code, st
}
