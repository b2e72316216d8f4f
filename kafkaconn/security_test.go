package kafkaconn

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"flag"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/vitseg/vitseg/internal/envflag"
)

func TestRegisterFlagsAndEnvironment(t *testing.T) {
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pw")
	if err := os.WriteFile(pwFile, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var c Security
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c.RegisterFlags(fs)
	for _, name := range []string{"kafka-tls", "kafka-ca-file", "kafka-sasl-mechanism", "kafka-sasl-username", "kafka-sasl-password", "kafka-sasl-password-file"} {
		if fs.Lookup(name) == nil {
			t.Errorf("flag --%s not registered", name)
		}
	}
	t.Setenv("VITSEG_KAFKA_SASL_PASSWORD", "from-env")
	t.Setenv("VITSEG_KAFKA_SASL_MECHANISM", "plain")
	if err := fs.Parse([]string{"--kafka-tls", "--kafka-sasl-username", "svc"}); err != nil {
		t.Fatal(err)
	}
	if err := envflag.Apply(fs, "VITSEG"); err != nil {
		t.Fatal(err)
	}
	want := Security{TLS: true, SASLMechanism: "plain", SASLUsername: "svc", SASLPassword: "from-env"}
	if c != want {
		t.Fatalf("config = %+v, want %+v", c, want)
	}
	c.SASLPasswordFile = pwFile
	if pw, err := c.password(); err != nil || pw != "from-file" {
		t.Errorf("password() = %q, %v; want the file's content without newline", pw, err)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		c    Security
		ok   bool
	}{
		{"zero", Security{}, true},
		{"tls only", Security{TLS: true}, true},
		{"plain", Security{SASLMechanism: "plain", SASLUsername: "u", SASLPassword: "p"}, true},
		{"scram-256 upper case", Security{SASLMechanism: "SCRAM-SHA-256", SASLUsername: "u", SASLPassword: "p"}, true},
		{"scram-512 with file", Security{SASLMechanism: "scram-sha-512", SASLUsername: "u", SASLPasswordFile: "/x"}, true},
		{"unknown mechanism", Security{SASLMechanism: "gssapi", SASLUsername: "u", SASLPassword: "p"}, false},
		{"no user", Security{SASLMechanism: "plain", SASLPassword: "p"}, false},
		{"no password", Security{SASLMechanism: "plain", SASLUsername: "u"}, false},
		{"credentials without mechanism", Security{SASLUsername: "u", SASLPassword: "p"}, false},
	}
	for _, tt := range tests {
		err := tt.c.Validate()
		if tt.ok != (err == nil) {
			t.Errorf("%s: Validate() = %v, want ok=%t", tt.name, err, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalidSecurity) {
			t.Errorf("%s: %v does not wrap ErrInvalidSecurity", tt.name, err)
		}
	}
}

func TestMechanism(t *testing.T) {
	tests := []struct {
		mechanism string
		want      string // sasl.Mechanism.Name(); "" for none
	}{
		{"", ""},
		{"plain", "PLAIN"},
		{"scram-sha-256", "SCRAM-SHA-256"},
		{"Scram-Sha-512", "SCRAM-SHA-512"},
	}
	for _, tt := range tests {
		c := Security{SASLMechanism: tt.mechanism}
		if tt.mechanism != "" {
			c.SASLUsername, c.SASLPassword = "user", "secret"
		}
		m, err := c.Mechanism()
		if err != nil {
			t.Fatalf("%q: %v", tt.mechanism, err)
		}
		switch {
		case tt.want == "" && m != nil:
			t.Errorf("%q: got mechanism %s, want none", tt.mechanism, m.Name())
		case tt.want != "" && (m == nil || m.Name() != tt.want):
			t.Errorf("%q: got %v, want %s", tt.mechanism, m, tt.want)
		}
	}
	c := Security{SASLMechanism: "plain", SASLUsername: "u", SASLPasswordFile: filepath.Join(t.TempDir(), "missing")}
	if _, err := c.Mechanism(); err == nil {
		t.Error("missing password file accepted")
	}
	empty := filepath.Join(t.TempDir(), "empty")
	_ = os.WriteFile(empty, []byte("\n"), 0o600)
	c.SASLPasswordFile = empty
	if _, err := c.Mechanism(); !errors.Is(err, ErrInvalidSecurity) {
		t.Errorf("empty password file: %v", err)
	}
}

func TestSecretsAreNotLogged(t *testing.T) {
	c := Security{TLS: true, SASLMechanism: "scram-sha-256", SASLUsername: "svc", SASLPassword: "hunter2-secret"}
	if s := c.String(); strings.Contains(s, "hunter2") || !strings.Contains(s, "svc") {
		t.Errorf("String() = %q", s)
	}
	core, logs := observer.New(zapcore.DebugLevel)
	zap.New(core).Info("config", zap.Object("kafka", c))
	entry := logs.All()[0]
	fields := entry.ContextMap()["kafka"].(map[string]any)
	if fields["sasl_password"] != "[redacted]" || fields["sasl_username"] != "svc" || fields["tls"] != true {
		t.Errorf("logged %v", fields)
	}
	for _, v := range fields {
		if s, ok := v.(string); ok && strings.Contains(s, "hunter2") {
			t.Errorf("password logged: %v", fields)
		}
	}
}

// writeCA makes a CA and a server certificate for 127.0.0.1 signed by it.
func writeCA(t *testing.T, dir string) (caFile string, server tls.Certificate) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "vitseg test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	srvKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	srvTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "broker"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTmpl, ca, &srvKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caFile = filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return caFile, tls.Certificate{Certificate: [][]byte{srvDER}, PrivateKey: srvKey}
}

// TestDialerTLS dials a loopback TLS listener with the Dialer: the handshake
// succeeds with the right CA and fails with the system roots.
func TestDialerTLS(t *testing.T) {
	caFile, cert := writeCA(t, t.TempDir())
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.(*tls.Conn).Handshake()
			}()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	good, err := Security{CAFile: caFile}.Dialer("test", 5*time.Second) // CAFile implies TLS
	if err != nil {
		t.Fatal(err)
	}
	if good.TLS == nil || good.TLS.MinVersion != tls.VersionTLS12 {
		t.Fatalf("dialer TLS = %+v", good.TLS)
	}
	conn, err := good.DialContext(ctx, "tcp", ln.Addr().String())
	if err != nil {
		t.Fatalf("dial with the CA: %v", err)
	}
	conn.Close()

	untrusted, err := Security{TLS: true}.Dialer("test", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if conn, err := untrusted.DialContext(ctx, "tcp", ln.Addr().String()); err == nil {
		conn.Close()
		t.Fatal("dial without the CA succeeded")
	}

	tr, err := Security{CAFile: caFile, SASLMechanism: "plain", SASLUsername: "u", SASLPassword: "p"}.Transport("test", 0)
	if err != nil {
		t.Fatal(err)
	}
	if tr.TLS == nil || tr.TLS.RootCAs == nil || tr.SASL == nil || tr.SASL.Name() != "PLAIN" || tr.DialTimeout != 10*time.Second {
		t.Errorf("transport = %+v", tr)
	}
}

func TestTLSConfigErrors(t *testing.T) {
	if cfg, err := (Security{}).TLSConfig(); cfg != nil || err != nil {
		t.Errorf("TLS off: %v, %v", cfg, err)
	}
	if _, err := (Security{CAFile: filepath.Join(t.TempDir(), "none.pem")}).TLSConfig(); err == nil {
		t.Error("missing CA file accepted")
	}
	junk := filepath.Join(t.TempDir(), "junk.pem")
	_ = os.WriteFile(junk, []byte("not a certificate"), 0o600)
	if _, err := (Security{CAFile: junk}).TLSConfig(); !errors.Is(err, ErrInvalidSecurity) {
		t.Errorf("junk CA file: %v", err)
	}
}
