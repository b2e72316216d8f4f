package pipeline

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/minio/minio-go/v7/pkg/s3utils"

	"github.com/vitseg/vitseg/events"
	"github.com/vitseg/vitseg/internal/objstore"
)

// errPermanent wraps errors that retrying cannot fix; the item is dead-lettered with class.
type errPermanent struct {
	class events.ErrorClass
	err   error
}

func (e errPermanent) Error() string { return e.err.Error() }
func (e errPermanent) Unwrap() error { return e.err }

// isTransient reports whether err is worth retrying: neither permanent nor the end of the context.
func isTransient(err error) bool {
	var pe errPermanent
	return !errors.As(err, &pe) && !errors.Is(err, context.Canceled)
}

// s3Op is the S3 call an error came from; it decides the class of a permanent error.
type s3Op int

const (
	s3Get s3Op = iota // GetObject, its Stat and its body
	s3Put             // PutObject of a mask
)

// dependencyWide are S3 error codes of 4xx answers that concern every request (credentials, clock, the
// server's own state) rather than the item: they are retried like an outage, and the readiness probe fails with
// them too.
var dependencyWide = map[string]bool{
	"InvalidAccessKeyId": true, "SignatureDoesNotMatch": true, "RequestTimeTooSkewed": true,
	"ExpiredToken": true, "InvalidToken": true, "XMinioServerNotInitialized": true,
}

// statusClientClosed is the status MinIO answers with (code ClientDisconnected) when it sees the connection
// go away before its answer was ready, as during its own shutdown: it says nothing about the item.
const statusClientClosed = 499

// retriedCodes are S3 error codes of 4xx answers that are timeouts, throttling or races, not verdicts on the item.
var retriedCodes = map[string]bool{
	"SlowDown": true, "RequestTimeout": true, "UnexpectedEOF": true, "ClientDisconnected": true,
	"OperationAborted": true,
}

// classifyS3 decides whether an S3 error is transient (retried) or permanent (the item is dead-lettered), as in
// the table of docs/RELIABILITY.md: answers 404 to a GET (no such key, bucket or version) are missing_object (to
// a mask PUT, a missing output bucket, they are internal, like the other 4xx of a PUT); other 4xx
// answers are permanent, except timeouts (408), throttling (429, SlowDown), a connection the server saw close
// (499, ClientDisconnected), a conflicting operation in progress (409 OperationAborted) and the dependency-wide
// codes; 5xx
// answers (but 501), a body cut short (UnexpectedEOF) and everything that is not an answer (network errors) are
// transient.
func classifyS3(op s3Op, err error) error {
	if err == nil {
		return nil
	}
	resp := objstore.Response(err)
	code, status := resp.Code, resp.StatusCode
	switch {
	case status == 0:
		return err // No answer: the network, a timeout, a closed connection.
	case op == s3Get && objstore.IsNotFound(err):
		return errPermanent{events.ClassMissingObject, err}
	case status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || status == statusClientClosed ||
		retriedCodes[code] || dependencyWide[code]:
		return err
	case status == http.StatusNotImplemented, status >= 400 && status < 500:
		return errPermanent{classOf4xx(op, status), err}
	}
	return err
}

// classOf4xx is the dead-letter class of a permanent S3 refusal: a source S3 will not serve as named
// (400: an invalid object name, say) is a malformed reference; everything else (access denied, a refused
// mask PUT) is internal, not the input's fault.
func classOf4xx(op s3Op, status int) events.ErrorClass {
	if op == s3Get && status == http.StatusBadRequest {
		return events.ClassMalformedMessage
	}
	return events.ClassInternal
}

// checkObjectName refuses, before any request, an object name that minio-go itself would refuse with an error
// that is not an S3 answer (and so would look like a network failure): too long, not UTF-8, empty.
func checkObjectName(op s3Op, key string) error {
	if err := s3utils.CheckValidObjectName(key); err != nil {
		return errPermanent{classOf4xx(op, http.StatusBadRequest), fmt.Errorf("object key refused: %w", err)}
	}
	return nil
}
