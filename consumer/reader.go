package consumer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/vitseg/vitseg/kafkaconn"
)

// Reader defaults and bounds.
const (
	// DefaultSessionTimeout is the group session timeout when none is set.
	DefaultSessionTimeout = 10 * time.Second
	// MinSessionTimeout is the smallest session timeout brokers accept by
	// default (group.min.session.timeout.ms).
	MinSessionTimeout = 6 * time.Second
	// DefaultMaxBytes is the default largest fetch response per partition.
	DefaultMaxBytes = 1 << 20
	// DefaultMaxWait is how long a fetch waits for new data by default.
	DefaultMaxWait = time.Second
	// DefaultClientID is the Kafka client ID when none is set.
	DefaultClientID = "vitseg"
)

// ErrClosed is returned by Fetch once the Reader is closed.
var ErrClosed = errors.New("consumer: reader closed")

// ErrInvalidConfig is wrapped by NewReader's configuration errors.
var ErrInvalidConfig = errors.New("consumer: invalid reader configuration")

// ReaderConfig configures a Reader. Brokers, GroupID and Topic are required.
type ReaderConfig struct {
	// Brokers are the bootstrap brokers, host:port.
	Brokers []string
	// GroupID is the consumer group.
	GroupID string
	// Topic is the topic to consume.
	Topic string
	// Security holds the TLS and SASL settings.
	Security kafkaconn.Security
	// ClientID identifies the client to the brokers (default DefaultClientID).
	ClientID string
	// DialTimeout bounds each connection attempt (default 10s).
	DialTimeout time.Duration
	// SessionTimeout is how long the group coordinator waits for a heartbeat
	// before evicting the member (default DefaultSessionTimeout, at least
	// MinSessionTimeout).
	SessionTimeout time.Duration
	// HeartbeatInterval is the heartbeat period (default a third of
	// SessionTimeout, capped at 3s).
	HeartbeatInterval time.Duration
	// RebalanceTimeout is how long the coordinator waits for members to
	// rejoin during a rebalance (default 30s).
	RebalanceTimeout time.Duration
	// MaxBytes bounds one fetch response per partition (default
	// DefaultMaxBytes); a larger message cannot be consumed.
	MaxBytes int
	// MaxWait is how long a fetch waits for new data (default DefaultMaxWait).
	MaxWait time.Duration
	// QueueCapacity is the number of fetched messages buffered ahead of
	// Fetch (default 100).
	QueueCapacity int
	// StartOffset is where a group without a committed offset starts:
	// kafka.FirstOffset (default) or kafka.LastOffset.
	StartOffset int64
	// Logger receives the client's diagnostics (default: none).
	Logger *zap.Logger
}

// Reader consumes one topic as a member of a consumer group, with explicit
// synchronous commits: nothing is committed unless Commit, CommitOffsets or
// CommitWatermark is called, and those return once the broker has stored
// the offsets.
type Reader struct {
	r     *kafka.Reader
	topic string
	log   *zap.Logger

	mu  sync.Mutex
	lag map[int]int64 // partition -> messages behind the high watermark, at the last fetch
}

// NewReader validates cfg and returns a Reader. It does not contact the
// brokers; the group is joined on the first Fetch.
func NewReader(cfg ReaderConfig) (*Reader, error) {
	kcfg, err := cfg.kafkaConfig()
	if err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = zap.NewNop()
	}
	log = log.With(zap.String("topic", cfg.Topic), zap.String("group", cfg.GroupID))
	kcfg.Logger = kafkaconn.Logger(log, zapcore.DebugLevel)
	kcfg.ErrorLogger = kafkaconn.Logger(log, zapcore.WarnLevel)
	return &Reader{
		r:     kafka.NewReader(kcfg),
		topic: cfg.Topic,
		log:   log,
		lag:   make(map[int]int64),
	}, nil
}

func (cfg ReaderConfig) kafkaConfig() (kafka.ReaderConfig, error) {
	brokers := cleanBrokers(cfg.Brokers)
	switch {
	case len(brokers) == 0:
		return kafka.ReaderConfig{}, fmt.Errorf("%w: no brokers", ErrInvalidConfig)
	case cfg.GroupID == "":
		return kafka.ReaderConfig{}, fmt.Errorf("%w: no consumer group", ErrInvalidConfig)
	case cfg.Topic == "":
		return kafka.ReaderConfig{}, fmt.Errorf("%w: no topic", ErrInvalidConfig)
	case cfg.SessionTimeout != 0 && cfg.SessionTimeout < MinSessionTimeout:
		return kafka.ReaderConfig{}, fmt.Errorf("%w: session timeout %v is under %v", ErrInvalidConfig, cfg.SessionTimeout, MinSessionTimeout)
	case cfg.MaxBytes < 0 || cfg.QueueCapacity < 0 || cfg.MaxWait < 0 || cfg.HeartbeatInterval < 0 || cfg.RebalanceTimeout < 0:
		return kafka.ReaderConfig{}, fmt.Errorf("%w: negative limit", ErrInvalidConfig)
	case cfg.StartOffset != 0 && cfg.StartOffset != kafka.FirstOffset && cfg.StartOffset != kafka.LastOffset:
		return kafka.ReaderConfig{}, fmt.Errorf("%w: start offset must be kafka.FirstOffset or kafka.LastOffset", ErrInvalidConfig)
	}
	clientID := orDefault(cfg.ClientID, DefaultClientID)
	dialer, err := cfg.Security.Dialer(clientID, cfg.DialTimeout)
	if err != nil {
		return kafka.ReaderConfig{}, fmt.Errorf("consumer: %w", err)
	}
	session := orDefault(cfg.SessionTimeout, DefaultSessionTimeout)
	heartbeat := cfg.HeartbeatInterval
	if heartbeat == 0 {
		heartbeat = min(session/3, 3*time.Second)
	}
	if heartbeat >= session {
		return kafka.ReaderConfig{}, fmt.Errorf("%w: heartbeat interval %v is not under the session timeout %v", ErrInvalidConfig, heartbeat, session)
	}
	return kafka.ReaderConfig{
		Brokers:           brokers,
		GroupID:           cfg.GroupID,
		Topic:             cfg.Topic,
		Dialer:            dialer,
		QueueCapacity:     cfg.QueueCapacity,
		MinBytes:          1,
		MaxBytes:          orDefault(cfg.MaxBytes, DefaultMaxBytes),
		MaxWait:           orDefault(cfg.MaxWait, DefaultMaxWait),
		HeartbeatInterval: heartbeat,
		CommitInterval:    0, // synchronous commits
		SessionTimeout:    session,
		RebalanceTimeout:  cfg.RebalanceTimeout,
		JoinGroupBackoff:  time.Second,
		StartOffset:       orDefault(cfg.StartOffset, kafka.FirstOffset),
		IsolationLevel:    kafka.ReadCommitted,
	}, nil
}

// orDefault returns v, or def when v is the zero value.
func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// cleanBrokers trims the addresses and drops empty ones.
func cleanBrokers(in []string) []string {
	out := make([]string, 0, len(in))
	for _, b := range in {
		if b = strings.TrimSpace(b); b != "" {
			out = append(out, b)
		}
	}
	return out
}

// Fetch returns the next message, joining the group on the first call. It
// blocks until a message arrives, ctx ends (ctx.Err() is returned) or the
// Reader is closed (ErrClosed). Other errors are transient (the group's
// coordinator unreachable, say): the caller may call Fetch again.
func (r *Reader) Fetch(ctx context.Context) (kafka.Message, error) {
	m, err := r.r.FetchMessage(ctx)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return kafka.Message{}, ctxErr
		}
		if errors.Is(err, io.EOF) {
			return kafka.Message{}, ErrClosed
		}
		return kafka.Message{}, fmt.Errorf("consumer: fetch from %s: %w", r.topic, err)
	}
	r.mu.Lock()
	r.lag[m.Partition] = max(m.HighWaterMark-m.Offset-1, 0)
	r.mu.Unlock()
	return m, nil
}

// Commit commits what w reports as uncommitted (per partition, the offset after the highest message whose
// tracked predecessors have all finished) and records the commit in w. It returns once the broker has stored
// the offsets, and does nothing when there is nothing new to commit. It is the Reader's only commit: an offset
// never covers a message still in flight, which is the at-least-once promise.
func (r *Reader) Commit(ctx context.Context, w *Watermark) error {
	offsets := w.Uncommitted()
	if len(offsets) == 0 {
		return nil
	}
	msgs := make([]kafka.Message, 0, len(offsets))
	for partition, offset := range offsets {
		msgs = append(msgs, kafka.Message{Topic: r.topic, Partition: partition, Offset: offset})
	}
	if err := r.r.CommitMessages(ctx, msgs...); err != nil {
		return fmt.Errorf("consumer: commit to group: %w", err)
	}
	for partition, offset := range offsets {
		w.MarkCommitted(partition, offset)
	}
	if ce := r.log.Check(zapcore.DebugLevel, "committed offsets"); ce != nil {
		ce.Write(zap.Any("offsets", offsets))
	}
	return nil
}

// Lag returns the number of messages behind the end of the partitions, summed
// over the partitions fetched from, as of the last message fetched from each.
func (r *Reader) Lag() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	var total int64
	for _, l := range r.lag {
		total += l
	}
	return total
}

// Close leaves the group and releases the connections. Messages fetched but
// not committed are delivered again to the group. Close is idempotent.
func (r *Reader) Close() error {
	if err := r.r.Close(); err != nil {
		return fmt.Errorf("consumer: close: %w", err)
	}
	return nil
}
