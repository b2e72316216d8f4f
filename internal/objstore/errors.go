package objstore

import (
	"errors"
	"net/http"

	"github.com/minio/minio-go/v7"
)

// ErrTooLarge is wrapped by Get's error for an object over its limit.
var ErrTooLarge = errors.New("object larger than the limit")

// Response returns the S3 error answer that err carries (wrapped or not); the zero ErrorResponse (StatusCode
// 0) when err is not an answer: a network error, a timeout, a closed connection.
func Response(err error) minio.ErrorResponse {
	var resp minio.ErrorResponse
	if errors.As(err, &resp) {
		return resp
	}
	return minio.ErrorResponse{}
}

// IsNotFound reports whether err is S3's answer that the object, its bucket or its version does not exist
// (NoSuchKey, NoSuchBucket, NoSuchVersion, or any 404).
func IsNotFound(err error) bool {
	resp := Response(err)
	switch resp.Code {
	case minio.NoSuchKey, minio.NoSuchBucket, minio.NoSuchVersion:
		return true
	}
	return resp.StatusCode == http.StatusNotFound
}

// IsPreconditionFailed reports a failed conditional write: 412 PreconditionFailed, or 409
// ConditionalRequestConflict when two conditional writes to the same key overlap.
func IsPreconditionFailed(err error) bool {
	resp := Response(err)
	return resp.Code == minio.PreconditionFailed || resp.StatusCode == http.StatusPreconditionFailed ||
		resp.Code == "ConditionalRequestConflict"
}
