package pipeline

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/vitseg/vitseg/events"
)

// TestClassifyS3 is the S3 half of the failure table of docs/RELIABILITY.md.
func TestClassifyS3(t *testing.T) {
	answer := func(status int, code string) error {
		return minio.ErrorResponse{StatusCode: status, Code: code, Message: code}
	}
	tests := []struct {
		name string
		op   s3Op
		err  error
		want events.ErrorClass // "" = transient
	}{
		{"network error", s3Get, errors.New("dial tcp: connection refused"), ""},
		{"no such key", s3Get, answer(404, "NoSuchKey"), events.ClassMissingObject},
		{"no such bucket", s3Get, answer(404, "NoSuchBucket"), events.ClassMissingObject},
		{"no such output bucket on put", s3Put, answer(404, "NoSuchBucket"), events.ClassInternal},
		{"access denied", s3Get, answer(403, "AccessDenied"), events.ClassInternal},
		{"invalid object name on get", s3Get, answer(400, "XMinioInvalidObjectName"), events.ClassMalformedMessage},
		{"invalid object name on put", s3Put, answer(400, "XMinioInvalidObjectName"), events.ClassInternal},
		{"key too long", s3Put, answer(400, "KeyTooLongError"), events.ClassInternal},
		{"precondition failed", s3Get, answer(412, "PreconditionFailed"), events.ClassInternal},
		{"request timeout 408", s3Get, answer(http.StatusRequestTimeout, "RequestTimeout"), ""},
		{"throttled 429", s3Put, answer(http.StatusTooManyRequests, "TooManyRequests"), ""},
		{"slow down 503", s3Put, answer(503, "SlowDown"), ""},
		{"slow down read 503 (damaged object)", s3Get, answer(503, "SlowDownRead"), ""},
		{"internal error 500", s3Get, answer(500, "InternalError"), ""},
		{"not implemented 501", s3Put, answer(501, "NotImplemented"), events.ClassInternal},
		{"body cut short", s3Get, answer(400, "UnexpectedEOF"), ""},
		{"server saw the client go (MinIO shutting down)", s3Put, answer(499, "ClientDisconnected"), ""},
		{"conflicting operation in progress", s3Put, answer(409, "OperationAborted"), ""},
		{"wrong secret", s3Get, answer(403, "SignatureDoesNotMatch"), ""},
		{"unknown access key", s3Put, answer(403, "InvalidAccessKeyId"), ""},
		{"clock skew", s3Get, answer(403, "RequestTimeTooSkewed"), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := classifyS3(tc.op, tc.err)
			var pe errPermanent
			switch {
			case tc.want == "" && !isTransient(got):
				t.Errorf("classified permanent (%v), want transient", got)
			case tc.want != "" && (!errors.As(got, &pe) || pe.class != tc.want):
				t.Errorf("classified %v, want permanent %s", got, tc.want)
			}
			if !errors.Is(got, tc.err) {
				t.Errorf("%v does not wrap %v", got, tc.err)
			}
		})
	}
}

func TestCheckObjectName(t *testing.T) {
	for _, tc := range []struct {
		key string
		ok  bool
	}{{"uploads/cat.jpg", true}, {strings.Repeat("k", 1024), true}, {strings.Repeat("k", 1025), false}, {"a\xffb", false}, {"", false}} {
		err := checkObjectName(s3Get, tc.key)
		if (err == nil) != tc.ok || (err != nil && isTransient(err)) {
			t.Errorf("checkObjectName(%d bytes) = %v, want ok %v (or a permanent error)", len(tc.key), err, tc.ok)
		}
	}
}
