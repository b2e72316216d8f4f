package objstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/vitseg/vitseg/internal/objstore"
	"github.com/vitseg/vitseg/internal/testsupport/testenv"
)

// TestGet reads from a real MinIO: an object within the limit whole with its ETag, one over it by its size
// refused with ErrTooLarge (ETag and size kept, no data), and a missing object, a missing bucket as
// fs.ErrNotExist carrying S3's answer.
func TestGet(t *testing.T) {
	ctx := context.Background()
	client := testenv.StartMinIO(t).Client(t)
	if err := client.MakeBucket(ctx, "pets", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	data := []byte("0123456789")
	info, err := client.PutObject(ctx, "pets", "ten", bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, bucket, key string
		limit             int64
		wantData          []byte
		wantErr           error
		wantNotFound      bool
	}{
		{"within the limit", "pets", "ten", 10, data, nil, false},
		{"over the limit", "pets", "ten", 9, nil, objstore.ErrTooLarge, false},
		{"missing object", "pets", "none", 10, nil, fs.ErrNotExist, true},
		{"missing bucket", "nobucket", "ten", 10, nil, fs.ErrNotExist, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := objstore.Get(ctx, client, tc.bucket, tc.key, tc.limit)
			if !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
				t.Fatalf("Get error %v, want %v", err, tc.wantErr)
			}
			if !bytes.Equal(o.Data, tc.wantData) {
				t.Errorf("data %q, want %q", o.Data, tc.wantData)
			}
			if tc.wantErr != fs.ErrNotExist && (o.ETag != info.ETag || o.Size != info.Size) {
				t.Errorf("ETag %q size %d, want %q %d", o.ETag, o.Size, info.ETag, info.Size)
			}
			if objstore.IsNotFound(err) != tc.wantNotFound {
				t.Errorf("IsNotFound(%v) = %t, want %t", err, !tc.wantNotFound, tc.wantNotFound)
			}
		})
	}
}

// TestGetWhileReplaced reads an object from a real MinIO while another writer keeps replacing it: minio-go
// reads the data with If-Match: the ETag of its first response, so a replacement in between answers 412; Get
// reads again, and every read returns one whole version.
func TestGetWhileReplaced(t *testing.T) {
	ctx := t.Context()
	client := testenv.StartMinIO(t).Client(t)
	if err := client.MakeBucket(ctx, "pets", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	versions := [][]byte{bytes.Repeat([]byte("a"), 64), bytes.Repeat([]byte("b"), 64)}
	put := func(ctx context.Context, v []byte) {
		if _, err := client.PutObject(ctx, "pets", "current.json", bytes.NewReader(v), int64(len(v)),
			minio.PutObjectOptions{}); err != nil && ctx.Err() == nil {
			t.Error(err)
		}
	}
	put(ctx, versions[0])
	writeCtx, stop := context.WithCancel(ctx)
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		for i := 1; writeCtx.Err() == nil; i++ {
			put(writeCtx, versions[i%2])
		}
	}()
	defer func() { stop(); <-writerDone }()
	for i := range 100 {
		o, err := objstore.Get(ctx, client, "pets", "current.json", 1024)
		if err != nil {
			t.Fatalf("read %d: %v", i, err)
		}
		if !bytes.Equal(o.Data, versions[0]) && !bytes.Equal(o.Data, versions[1]) {
			t.Fatalf("read %d: %q is neither version", i, o.Data)
		}
	}
}

func TestErrorClassification(t *testing.T) {
	answer := func(code string, status int) error {
		return fmt.Errorf("wrapped: %w", minio.ErrorResponse{Code: code, StatusCode: status})
	}
	tests := []struct {
		name                   string
		err                    error
		notFound, precondition bool
	}{
		{"no such key", answer(minio.NoSuchKey, http.StatusNotFound), true, false},
		{"no such bucket", answer(minio.NoSuchBucket, http.StatusNotFound), true, false},
		{"no such version", answer(minio.NoSuchVersion, http.StatusNotFound), true, false},
		{"bare 404", answer("", http.StatusNotFound), true, false},
		{"access denied", answer("AccessDenied", http.StatusForbidden), false, false},
		{"precondition failed", answer(minio.PreconditionFailed, http.StatusPreconditionFailed), false, true},
		{"overlapping conditional writes", answer("ConditionalRequestConflict", http.StatusConflict), false, true},
		{"network error", errors.New("connection refused"), false, false},
		{"nil", nil, false, false},
	}
	for _, tc := range tests {
		if got := objstore.IsNotFound(tc.err); got != tc.notFound {
			t.Errorf("%s: IsNotFound = %t", tc.name, got)
		}
		if got := objstore.IsPreconditionFailed(tc.err); got != tc.precondition {
			t.Errorf("%s: IsPreconditionFailed = %t", tc.name, got)
		}
	}
}
