package pipeline_test

import (
	"context"
	"errors"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"go.uber.org/zap"

	"github.com/vitseg/vitseg/internal/testsupport/testenv"
	"github.com/vitseg/vitseg/pipeline"
)

// TestCheckOutputBuckets: serve refuses to start when a mask destination does not exist (every image would be
// segmented and then dead-lettered), and starts when S3 cannot answer (outages are waited out).
func TestCheckOutputBuckets(t *testing.T) {
	m := testenv.StartMinIO(t)
	m.MakeBucket("pets")
	client := m.Client(t)
	ctx := context.Background()
	tests := []struct {
		name    string
		buckets []string
		want    error
	}{
		{"existing bucket", []string{"pets"}, nil},
		{"missing bucket", []string{"pets", "no-such-bucket"}, pipeline.ErrNoOutputBucket},
	}
	for _, tc := range tests {
		if err := pipeline.CheckOutputBuckets(ctx, client, tc.buckets, zap.NewNop()); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
	down, err := minio.New("127.0.0.1:1", &minio.Options{Creds: credentials.NewStaticV4("a", "b", ""), MaxRetries: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := pipeline.CheckOutputBuckets(ctx, down, []string{"pets"}, zap.NewNop()); err != nil {
		t.Errorf("S3 unreachable: err = %v, want a start (the pipeline waits outages out)", err)
	}
}
