package producer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"
	"go.opentelemetry.io/otel/propagation"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/vitseg/vitseg/events"
	"github.com/vitseg/vitseg/internal/backoff"
	"github.com/vitseg/vitseg/kafkaconn"
)

// Writer defaults.
const (
	// DefaultBatchTimeout is how long the writer waits to fill a batch.
	DefaultBatchTimeout = 5 * time.Millisecond
	// DefaultWriteTimeout bounds one produce request.
	DefaultWriteTimeout = 10 * time.Second
	// DefaultMaxAttempts is the number of tries of a message before giving up.
	DefaultMaxAttempts = 10
	// DefaultBackoffMin and DefaultBackoffMax bound the wait between tries.
	DefaultBackoffMin = 50 * time.Millisecond
	DefaultBackoffMax = 2 * time.Second
	// DefaultClientID is the Kafka client ID when none is set.
	DefaultClientID = "vitseg"
)

// ErrInvalidConfig is wrapped by NewWriter's configuration errors.
var ErrInvalidConfig = errors.New("producer: invalid writer configuration")

// ErrClosed is returned by the Publish methods once the Writer is closed.
var ErrClosed = errors.New("producer: writer closed")

// WriterConfig configures a Writer. Brokers, ResultTopic and DeadLetterTopic
// are required; the topics must exist (the writer never creates topics).
type WriterConfig struct {
	// Brokers are the bootstrap brokers, host:port.
	Brokers []string
	// ResultTopic receives ResultEvents.
	ResultTopic string
	// DeadLetterTopic receives DeadLetterEvents.
	DeadLetterTopic string
	// Security holds the TLS and SASL settings.
	Security kafkaconn.Security
	// ClientID identifies the client to the brokers (default DefaultClientID).
	ClientID string
	// DialTimeout bounds each connection attempt (default 10s).
	DialTimeout time.Duration
	// BatchTimeout is how long messages wait to fill a batch (default
	// DefaultBatchTimeout).
	BatchTimeout time.Duration
	// WriteTimeout bounds one produce request (default DefaultWriteTimeout).
	WriteTimeout time.Duration
	// MaxAttempts is the number of tries of a message with a transient
	// error (default DefaultMaxAttempts); the context bounds them too.
	MaxAttempts int
	// BackoffMin and BackoffMax bound the jittered, doubling wait between
	// tries (defaults DefaultBackoffMin, DefaultBackoffMax).
	BackoffMin, BackoffMax time.Duration
	// Logger receives the client's diagnostics (default: none).
	Logger *zap.Logger
	// EventSource is the CloudEvents ce_source of every event, a URI
	// reference naming this vitseg instance or group (default
	// DefaultEventSource).
	EventSource string
}

// Writer publishes result and dead-letter events. Its Publish methods are
// synchronous: they return nil only once every in-sync replica of each
// message's partition has stored it (acks=all), so an input offset may be
// committed after they return. They retry transient failures; a message
// retried after a lost acknowledgement may be stored twice, with the same
// event_id (kafka-go has no idempotent producer). Every event is a
// CloudEvents binary-mode message (see TypeResult) and carries the W3C trace
// context of the span in the Publish call's ctx, if any. A Writer is safe for
// concurrent use.
type Writer struct {
	kw        *kafka.Writer
	transport *kafka.Transport
	cfg       WriterConfig
	log       *zap.Logger
}

// NewWriter validates cfg and returns a Writer. It does not contact the
// brokers.
func NewWriter(cfg WriterConfig) (*Writer, error) {
	brokers := make([]string, 0, len(cfg.Brokers))
	for _, b := range cfg.Brokers {
		if b = strings.TrimSpace(b); b != "" {
			brokers = append(brokers, b)
		}
	}
	switch {
	case len(brokers) == 0:
		return nil, fmt.Errorf("%w: no brokers", ErrInvalidConfig)
	case cfg.ResultTopic == "" || cfg.DeadLetterTopic == "":
		return nil, fmt.Errorf("%w: result and dead-letter topics are required", ErrInvalidConfig)
	case cfg.BatchTimeout < 0 || cfg.WriteTimeout < 0 || cfg.MaxAttempts < 0 || cfg.BackoffMin < 0 || cfg.BackoffMax < 0:
		return nil, fmt.Errorf("%w: negative limit", ErrInvalidConfig)
	}
	cfg.Brokers = brokers
	cfg.ClientID = orDefault(cfg.ClientID, DefaultClientID)
	cfg.BatchTimeout = orDefault(cfg.BatchTimeout, DefaultBatchTimeout)
	cfg.WriteTimeout = orDefault(cfg.WriteTimeout, DefaultWriteTimeout)
	cfg.MaxAttempts = orDefault(cfg.MaxAttempts, DefaultMaxAttempts)
	cfg.BackoffMin = orDefault(cfg.BackoffMin, DefaultBackoffMin)
	cfg.BackoffMax = orDefault(cfg.BackoffMax, DefaultBackoffMax)
	cfg.EventSource = orDefault(cfg.EventSource, events.DefaultEventSource)
	if _, err := url.Parse(cfg.EventSource); err != nil {
		return nil, fmt.Errorf("%w: event source: %w", ErrInvalidConfig, err)
	}
	if cfg.BackoffMax < cfg.BackoffMin {
		return nil, fmt.Errorf("%w: backoff max %v is under backoff min %v", ErrInvalidConfig, cfg.BackoffMax, cfg.BackoffMin)
	}
	transport, err := cfg.Security.Transport(cfg.ClientID, cfg.DialTimeout)
	if err != nil {
		return nil, fmt.Errorf("producer: %w", err)
	}
	log := cfg.Logger
	if log == nil {
		log = zap.NewNop()
	}
	w := &Writer{transport: transport, cfg: cfg, log: log}
	w.kw = &kafka.Writer{
		Addr:                   kafka.TCP(brokers...),
		Balancer:               &kafka.Hash{},
		MaxAttempts:            1, // Writer.write retries, with jitter and under ctx
		BatchTimeout:           cfg.BatchTimeout,
		WriteTimeout:           cfg.WriteTimeout,
		ReadTimeout:            cfg.WriteTimeout,
		RequiredAcks:           kafka.RequireAll,
		AllowAutoTopicCreation: false,
		Transport:              transport,
		Logger:                 kafkaconn.Logger(log, zapcore.DebugLevel),
		ErrorLogger:            kafkaconn.Logger(log, zapcore.WarnLevel),
	}
	return w, nil
}

// orDefault returns v, or def when v is the zero value.
func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// PublishResults writes events to the result topic, keyed by the source
// object key (so one object's results share a partition). Zero
// SchemaVersion, empty EventID and zero ProcessedAt are filled in
// (SchemaVersion, ResultEventID, now); ProcessedAt is written in UTC. If any
// event is invalid, nothing is written and the error wraps ErrInvalidEvent.
func (w *Writer) PublishResults(ctx context.Context, evs ...events.ResultEvent) error {
	msgs := make([]kafka.Message, 0, len(evs))
	now := time.Now().UTC()
	for i, e := range evs {
		if e.SchemaVersion == 0 {
			e.SchemaVersion = events.SchemaVersion
		}
		if e.EventID == "" {
			e.EventID = events.ResultEventID(e.Source, e.Model)
		}
		if e.ProcessedAt.IsZero() {
			e.ProcessedAt = now
		}
		e.ProcessedAt = e.ProcessedAt.UTC()
		if err := e.Validate(); err != nil {
			return fmt.Errorf("producer: result %d: %w", i, err)
		}
		msg, err := eventMessage(ctx, w.cfg.ResultTopic, []byte(e.Source.Key), e.Headers(w.cfg.EventSource), e)
		if err != nil {
			return err
		}
		msgs = append(msgs, msg)
	}
	return w.write(ctx, msgs)
}

// PublishDeadLetters writes events to the dead-letter topic, keyed by the
// source object key when known, else by the original message's key. Zero
// SchemaVersion, empty EventID (DeadLetterEventID of the original message and
// the source, with no ETag) and zero FailedAt are filled in; FailedAt is
// written in UTC. If any event is invalid, nothing is written and the error
// wraps ErrInvalidEvent.
func (w *Writer) PublishDeadLetters(ctx context.Context, evs ...events.DeadLetterEvent) error {
	msgs := make([]kafka.Message, 0, len(evs))
	now := time.Now().UTC()
	for i, e := range evs {
		if e.SchemaVersion == 0 {
			e.SchemaVersion = events.SchemaVersion
		}
		if e.EventID == "" {
			var object *events.ObjectVersion
			if e.Source != nil {
				object = &events.ObjectVersion{Bucket: e.Source.Bucket, Key: e.Source.Key}
			}
			e.EventID = events.DeadLetterEventID(e.Original.Topic, e.Original.Partition, e.Original.Offset, object)
		}
		if e.FailedAt.IsZero() {
			e.FailedAt = now
		}
		e.FailedAt = e.FailedAt.UTC()
		if e.Original.Headers == nil {
			e.Original.Headers = []events.Header{}
		}
		if err := e.Validate(); err != nil {
			return fmt.Errorf("producer: dead letter %d: %w", i, err)
		}
		msg, err := eventMessage(ctx, w.cfg.DeadLetterTopic, deadLetterKey(e), e.Headers(w.cfg.EventSource), e)
		if err != nil {
			return err
		}
		msgs = append(msgs, msg)
	}
	return w.write(ctx, msgs)
}

// deadLetterKey is the partitioning key of a dead letter.
func deadLetterKey(e events.DeadLetterEvent) []byte {
	if e.Source != nil {
		return []byte(e.Source.Key)
	}
	if k := e.Original.Key; k != nil && !k.Truncated {
		if b, err := k.Bytes(); err == nil {
			return b
		}
	}
	return nil
}

// eventMessage encodes event as a CloudEvents binary-mode message with headers (the event's own, see
// events.ResultEvent.Headers) and the W3C trace context (traceparent, tracestate) of the span in ctx, if any.
func eventMessage(ctx context.Context, topic string, key []byte, headers []kafka.Header, event any) (kafka.Message, error) {
	value, err := json.Marshal(event)
	if err != nil {
		return kafka.Message{}, fmt.Errorf("producer: encoding %T: %w", event, err)
	}
	propagation.TraceContext{}.Inject(ctx, kafkaconn.HeaderCarrier{Headers: &headers})
	return kafka.Message{Topic: topic, Key: key, Value: value, Headers: headers}, nil
}

// write sends msgs, retrying those that fail transiently.
func (w *Writer) write(ctx context.Context, msgs []kafka.Message) error {
	pending := msgs
	for attempt := 1; len(pending) > 0; attempt++ {
		err := w.kw.WriteMessages(ctx, pending...)
		if err == nil {
			return nil
		}
		if errors.Is(err, io.ErrClosedPipe) {
			return ErrClosed
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return fmt.Errorf("producer: %d of %d messages unconfirmed: %w", len(pending), len(msgs), ctxErr)
		}
		failed, cause, permanent := classify(pending, err)
		if permanent {
			return fmt.Errorf("producer: %d of %d messages not written: %w", len(failed), len(msgs), cause)
		}
		if attempt >= w.cfg.MaxAttempts {
			return fmt.Errorf("producer: %d of %d messages not written after %d attempts: %w", len(failed), len(msgs), attempt, cause)
		}
		delay := backoff.Exponential{Min: w.cfg.BackoffMin, Max: w.cfg.BackoffMax}.Delay(attempt)
		w.log.Warn("retrying event write", zap.Int("messages", len(failed)), zap.Int("attempt", attempt),
			zap.Duration("backoff", delay), zap.Error(cause))
		timer := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			timer.Stop()
			return fmt.Errorf("producer: %d of %d messages not written: %w (last error: %w)", len(failed), len(msgs), ctx.Err(), cause)
		case <-timer.C:
		}
		pending = failed
	}
	return nil
}

// classify returns the messages of pending that failed, the first error and
// whether it cannot be cured by retrying.
func classify(pending []kafka.Message, err error) (failed []kafka.Message, cause error, permanent bool) {
	var werrs kafka.WriteErrors
	if !errors.As(err, &werrs) || len(werrs) != len(pending) {
		return pending, err, !transient(err)
	}
	for i, e := range werrs {
		if e == nil {
			continue
		}
		failed = append(failed, pending[i])
		if cause == nil {
			cause = e
		}
		if !transient(e) {
			cause, permanent = e, true
		}
	}
	return failed, cause, permanent
}

// transient reports whether retrying may cure err. Broker errors say so
// themselves; a message over the size limit never fits; anything else
// (connection refused or reset, timeouts) is taken as transient.
func transient(err error) bool {
	var tooLarge kafka.MessageTooLargeError
	if errors.As(err, &tooLarge) {
		return false
	}
	var kerr kafka.Error
	if errors.As(err, &kerr) {
		return kerr.Temporary()
	}
	return true
}

// Close flushes and closes the writer and its connections.
func (w *Writer) Close() error {
	err := w.kw.Close()
	w.transport.CloseIdleConnections()
	if err != nil {
		return fmt.Errorf("producer: close: %w", err)
	}
	return nil
}
