package consumer

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/vitseg/vitseg/kafkaconn"
)

func TestReaderConfig(t *testing.T) {
	base := ReaderConfig{Brokers: []string{" 127.0.0.1:9092", ""}, GroupID: "vitseg", Topic: "vitseg.images"}
	k, err := base.kafkaConfig()
	if err != nil {
		t.Fatal(err)
	}
	if len(k.Brokers) != 1 || k.Brokers[0] != "127.0.0.1:9092" {
		t.Errorf("brokers %q", k.Brokers)
	}
	if k.CommitInterval != 0 {
		t.Errorf("CommitInterval = %v, want 0 (synchronous commits)", k.CommitInterval)
	}
	if k.SessionTimeout != DefaultSessionTimeout || k.HeartbeatInterval != 3*time.Second {
		t.Errorf("session %v heartbeat %v", k.SessionTimeout, k.HeartbeatInterval)
	}
	if k.StartOffset != kafka.FirstOffset || k.MaxBytes != DefaultMaxBytes || k.MaxWait != DefaultMaxWait {
		t.Errorf("start %d maxbytes %d maxwait %v", k.StartOffset, k.MaxBytes, k.MaxWait)
	}
	if k.Dialer == nil || k.Dialer.ClientID != DefaultClientID || k.Dialer.TLS != nil || k.Dialer.SASLMechanism != nil {
		t.Errorf("dialer %+v", k.Dialer)
	}
	if err := k.Validate(); err != nil {
		t.Errorf("kafka-go rejects the config: %v", err)
	}

	short := base
	short.SessionTimeout = 6 * time.Second
	if k, err := short.kafkaConfig(); err != nil || k.HeartbeatInterval != 2*time.Second {
		t.Errorf("6s session: heartbeat %v, err %v", k.HeartbeatInterval, err)
	}

	secure := base
	secure.Security = kafkaconn.Security{TLS: true, SASLMechanism: "scram-sha-512", SASLUsername: "u", SASLPassword: "p"}
	if k, err := secure.kafkaConfig(); err != nil || k.Dialer.TLS == nil || k.Dialer.SASLMechanism.Name() != "SCRAM-SHA-512" {
		t.Errorf("secure dialer: %+v, %v", k.Dialer, err)
	}

	bad := map[string]func(c *ReaderConfig){
		"no brokers":         func(c *ReaderConfig) { c.Brokers = nil },
		"no group":           func(c *ReaderConfig) { c.GroupID = "" },
		"no topic":           func(c *ReaderConfig) { c.Topic = "" },
		"short session":      func(c *ReaderConfig) { c.SessionTimeout = 5 * time.Second },
		"heartbeat too long": func(c *ReaderConfig) { c.HeartbeatInterval = 20 * time.Second },
		"negative max bytes": func(c *ReaderConfig) { c.MaxBytes = -1 },
		"odd start offset":   func(c *ReaderConfig) { c.StartOffset = 42 },
	}
	for name, change := range bad {
		c := base
		change(&c)
		if _, err := NewReader(c); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: NewReader = %v, want ErrInvalidConfig", name, err)
		}
	}
	c := base
	c.Security = kafkaconn.Security{SASLMechanism: "plain"}
	if _, err := NewReader(c); !errors.Is(err, kafkaconn.ErrInvalidSecurity) {
		t.Errorf("bad security: %v", err)
	}
}

func TestReaderClosed(t *testing.T) {
	r, err := NewReader(ReaderConfig{Brokers: []string{"127.0.0.1:1"}, GroupID: "g", Topic: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := r.Fetch(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("Fetch after Close = %v, want ErrClosed", err)
	}
	if err := r.Commit(ctx, NewWatermark()); err != nil {
		t.Errorf("empty CommitWatermark: %v", err)
	}
}
