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
	"github.com/vitseg/vitseg/kafkaconn"
)

// Writer defaults.
const (
	// DefaultBatchTimeout is how long the writer waits to fill a batch.
	DefaultBatchTimeout = 5 * time.Millisecond
	// DefaultWriteTimeout bounds one produce request.
	DefaultWriteTimeout = 10 * time.Second
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
// committed after they return. They make one try: the caller retries (the
// pipeline does, under its retry budget); a message written again after a
// lost acknowledgement may be stored twice, with the same event_id (kafka-go
// has no idempotent producer). Every event is a
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
	case cfg.BatchTimeout < 0 || cfg.WriteTimeout < 0:
		return nil, fmt.Errorf("%w: negative limit", ErrInvalidConfig)
	}
	cfg.Brokers = brokers
	cfg.ClientID = orDefault(cfg.ClientID, DefaultClientID)
	cfg.BatchTimeout = orDefault(cfg.BatchTimeout, DefaultBatchTimeout)
	cfg.WriteTimeout = orDefault(cfg.WriteTimeout, DefaultWriteTimeout)
	cfg.EventSource = orDefault(cfg.EventSource, events.DefaultEventSource)
	if _, err := url.Parse(cfg.EventSource); err != nil {
		return nil, fmt.Errorf("%w: event source: %w", ErrInvalidConfig, err)
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
		MaxAttempts:            1, // One try per call: the caller (the pipeline) owns the retries
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

// write sends msgs in one try. Its error says whether retrying may help: it wraps the broker's error, whose
// kafka.Error.Temporary tells, or a network error; a message over the size limit never fits.
func (w *Writer) write(ctx context.Context, msgs []kafka.Message) error {
	err := w.kw.WriteMessages(ctx, msgs...)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, io.ErrClosedPipe):
		return ErrClosed
	case ctx.Err() != nil:
		return fmt.Errorf("producer: %d messages unconfirmed: %w", len(msgs), ctx.Err())
	}
	failed, cause := failures(msgs, err)
	return fmt.Errorf("producer: %d of %d messages not written: %w", failed, len(msgs), cause)
}

// failures returns how many of msgs failed and the first of their errors: per message when err is
// kafka.WriteErrors, else all of them with err.
func failures(msgs []kafka.Message, err error) (failed int, cause error) {
	var werrs kafka.WriteErrors
	if !errors.As(err, &werrs) || len(werrs) != len(msgs) {
		return len(msgs), err
	}
	for _, e := range werrs {
		if e == nil {
			continue
		}
		failed++
		if cause == nil {
			cause = e
		}
	}
	return failed, cause
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
