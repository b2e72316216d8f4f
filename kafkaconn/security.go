package kafkaconn

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/segmentio/kafka-go/sasl/scram"
	"go.uber.org/zap/zapcore"
)

// SASL mechanism names accepted in Security.SASLMechanism.
const (
	MechanismNone        = ""
	MechanismPlain       = "plain"
	MechanismSCRAMSHA256 = "scram-sha-256"
	MechanismSCRAMSHA512 = "scram-sha-512"
)

// ErrInvalidSecurity is wrapped by every error Validate returns.
var ErrInvalidSecurity = errors.New("invalid kafka security configuration")

// Security is the TLS and SASL configuration of a Kafka client.
// The zero value means plaintext without authentication.
type Security struct {
	// TLS enables TLS to the brokers. A non-empty CAFile implies TLS.
	TLS bool
	// CAFile is a PEM bundle of CAs that verify the brokers' certificates;
	// empty means the system roots.
	CAFile string
	// SASLMechanism is one of MechanismNone, MechanismPlain,
	// MechanismSCRAMSHA256 and MechanismSCRAMSHA512 (case-insensitive).
	SASLMechanism string
	// SASLUsername is the SASL user name.
	SASLUsername string
	// SASLPassword is the SASL password. It is never logged.
	SASLPassword string
	// SASLPasswordFile, when set, names a file whose content (trailing
	// newline removed) is the password; it takes precedence over SASLPassword.
	SASLPasswordFile string
}

// RegisterFlags registers the --kafka-tls, --kafka-ca-file,
// --kafka-sasl-mechanism, --kafka-sasl-username, --kafka-sasl-password and
// --kafka-sasl-password-file flags on fs, bound to c.
func (c *Security) RegisterFlags(fs *flag.FlagSet) {
	fs.BoolVar(&c.TLS, "kafka-tls", c.TLS, "use TLS to the Kafka brokers")
	fs.StringVar(&c.CAFile, "kafka-ca-file", c.CAFile, "PEM `file` of CAs for the brokers' certificates (implies --kafka-tls)")
	fs.StringVar(&c.SASLMechanism, "kafka-sasl-mechanism", c.SASLMechanism, "SASL `mechanism`: plain, scram-sha-256 or scram-sha-512 (empty: none)")
	fs.StringVar(&c.SASLUsername, "kafka-sasl-username", c.SASLUsername, "SASL user name")
	fs.StringVar(&c.SASLPassword, "kafka-sasl-password", c.SASLPassword, "SASL password (prefer VITSEG_KAFKA_SASL_PASSWORD or --kafka-sasl-password-file)")
	fs.StringVar(&c.SASLPasswordFile, "kafka-sasl-password-file", c.SASLPasswordFile, "`file` holding the SASL password")
}

// TLSEnabled reports whether connections use TLS.
func (c Security) TLSEnabled() bool { return c.TLS || c.CAFile != "" }

func (c Security) mechanism() string { return strings.ToLower(strings.TrimSpace(c.SASLMechanism)) }

// Validate checks the configuration without reading any file.
func (c Security) Validate() error {
	switch c.mechanism() {
	case MechanismNone:
		if c.SASLUsername != "" || c.SASLPassword != "" || c.SASLPasswordFile != "" {
			return fmt.Errorf("%w: SASL credentials given without --kafka-sasl-mechanism", ErrInvalidSecurity)
		}
	case MechanismPlain, MechanismSCRAMSHA256, MechanismSCRAMSHA512:
		if c.SASLUsername == "" {
			return fmt.Errorf("%w: SASL mechanism %q needs a user name", ErrInvalidSecurity, c.mechanism())
		}
		if c.SASLPassword == "" && c.SASLPasswordFile == "" {
			return fmt.Errorf("%w: SASL mechanism %q needs a password", ErrInvalidSecurity, c.mechanism())
		}
	default:
		return fmt.Errorf("%w: unknown SASL mechanism %q (want plain, scram-sha-256 or scram-sha-512)",
			ErrInvalidSecurity, c.SASLMechanism)
	}
	return nil
}

// TLSConfig returns the TLS client configuration, or nil when TLS is off.
// It reads CAFile when set.
func (c Security) TLSConfig() (*tls.Config, error) {
	if !c.TLSEnabled() {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.CAFile == "" {
		return cfg, nil
	}
	pem, err := os.ReadFile(c.CAFile)
	if err != nil {
		return nil, fmt.Errorf("kafkaconn: reading CA file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%w: CA file %s holds no PEM certificate", ErrInvalidSecurity, c.CAFile)
	}
	cfg.RootCAs = pool
	return cfg, nil
}

// password returns the SASL password, reading SASLPasswordFile when set.
func (c Security) password() (string, error) {
	if c.SASLPasswordFile == "" {
		return c.SASLPassword, nil
	}
	b, err := os.ReadFile(c.SASLPasswordFile)
	if err != nil {
		return "", fmt.Errorf("kafkaconn: reading SASL password file: %w", err)
	}
	pw := strings.TrimRight(string(b), "\r\n")
	if pw == "" {
		return "", fmt.Errorf("%w: SASL password file %s is empty", ErrInvalidSecurity, c.SASLPasswordFile)
	}
	return pw, nil
}

// Mechanism returns the SASL mechanism, or nil when SASL is off.
func (c Security) Mechanism() (sasl.Mechanism, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	mech := c.mechanism()
	if mech == MechanismNone {
		return nil, nil
	}
	pw, err := c.password()
	if err != nil {
		return nil, err
	}
	switch mech {
	case MechanismPlain:
		return plain.Mechanism{Username: c.SASLUsername, Password: pw}, nil
	case MechanismSCRAMSHA256:
		return scramMechanism(scram.SHA256, c.SASLUsername, pw)
	default: // MechanismSCRAMSHA512, by Validate
		return scramMechanism(scram.SHA512, c.SASLUsername, pw)
	}
}

func scramMechanism(algo scram.Algorithm, user, pw string) (sasl.Mechanism, error) {
	m, err := scram.Mechanism(algo, user, pw)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalidSecurity, algo.Name(), err)
	}
	return m, nil
}

// Dialer returns a kafka-go Dialer (used by kafka.Reader) with this
// configuration, the client ID and the connect timeout (0: 10s).
func (c Security) Dialer(clientID string, timeout time.Duration) (*kafka.Dialer, error) {
	tlsCfg, mech, err := c.build()
	if err != nil {
		return nil, err
	}
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	return &kafka.Dialer{
		ClientID:      clientID,
		Timeout:       timeout,
		DualStack:     true,
		TLS:           tlsCfg,
		SASLMechanism: mech,
	}, nil
}

// Transport returns a kafka-go Transport (used by kafka.Writer) with this
// configuration, the client ID and the connect timeout (0: 10s).
func (c Security) Transport(clientID string, timeout time.Duration) (*kafka.Transport, error) {
	tlsCfg, mech, err := c.build()
	if err != nil {
		return nil, err
	}
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	return &kafka.Transport{
		ClientID:    clientID,
		DialTimeout: timeout,
		TLS:         tlsCfg,
		SASL:        mech,
	}, nil
}

func (c Security) build() (*tls.Config, sasl.Mechanism, error) {
	mech, err := c.Mechanism()
	if err != nil {
		return nil, nil, err
	}
	tlsCfg, err := c.TLSConfig()
	if err != nil {
		return nil, nil, err
	}
	return tlsCfg, mech, nil
}

// String describes the configuration without the password.
func (c Security) String() string {
	mech := c.mechanism()
	if mech == MechanismNone {
		mech = "none"
	}
	return fmt.Sprintf("tls=%t ca_file=%q sasl=%s user=%q password=%s",
		c.TLSEnabled(), c.CAFile, mech, c.SASLUsername, c.redacted())
}

// MarshalLogObject lets zap log the configuration without the password.
func (c Security) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	enc.AddBool("tls", c.TLSEnabled())
	if c.CAFile != "" {
		enc.AddString("ca_file", c.CAFile)
	}
	enc.AddString("sasl_mechanism", c.mechanism())
	if c.SASLUsername != "" {
		enc.AddString("sasl_username", c.SASLUsername)
	}
	enc.AddString("sasl_password", c.redacted())
	return nil
}

func (c Security) redacted() string {
	switch {
	case c.SASLPasswordFile != "":
		return "[from file]"
	case c.SASLPassword != "":
		return "[redacted]"
	default:
		return "[none]"
	}
}
