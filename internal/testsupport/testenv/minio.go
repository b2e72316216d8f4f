package testenv

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
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/notification"
)

// notifyTargetID names MinIO's Kafka notification target. It is the suffix of
// the MINIO_NOTIFY_KAFKA_*_<ID> variables and appears verbatim (upper-case) in
// NotifyARN.
const notifyTargetID = "TESTENV"

// Region is the region of the test MinIO servers.
const Region = "us-east-1"

// MinIOOption configures StartMinIO.
type MinIOOption func(*minioConfig)

type minioConfig struct {
	notifyBrokers []string
	notifyTopic   string
	tls           bool
}

// WithKafkaNotify gives the server a Kafka notification target that
// publishes bucket events to topic on brokers. Route a bucket's events to it
// with NotifyObjectCreated (or minio-go's SetBucketNotification and
// NotifyARN). The broker should run before the server starts.
func WithKafkaNotify(brokers []string, topic string) MinIOOption {
	return func(c *minioConfig) {
		c.notifyBrokers = append([]string(nil), brokers...)
		c.notifyTopic = topic
	}
}

// WithTLS serves HTTPS with a fresh self-signed certificate for 127.0.0.1
// and localhost; CAFile returns the certificate to trust.
func WithTLS() MinIOOption {
	return func(c *minioConfig) { c.tls = true }
}

// MinIO is a running MinIO server with its own data directory and random
// root credentials. Its methods fail the test it was started by on error,
// and must be called from that test's goroutine.
type MinIO struct {
	tb        testing.TB
	proc      *process
	addr      string
	accessKey string
	secretKey string
	notify    bool
	caFile    string // empty without TLS
}

// StartMinIO starts a MinIO server on a free loopback port with a temporary
// data directory, waits until /minio/health/ready answers and stops it when
// the test ends.
func StartMinIO(tb testing.TB, opts ...MinIOOption) *MinIO {
	tb.Helper()
	var cfg minioConfig
	for _, o := range opts {
		o(&cfg)
	}
	bin := minioBinary(tb)
	dir := tb.TempDir()
	certsDir := filepath.Join(dir, "certs")
	if err := os.MkdirAll(certsDir, 0o700); err != nil {
		tb.Fatalf("testenv: %v", err)
	}
	m := &MinIO{
		tb:        tb,
		accessKey: "testenv-" + randomHex(tb, 6),
		secretKey: randomHex(tb, 20),
		notify:    len(cfg.notifyBrokers) > 0,
	}
	if cfg.tls {
		m.caFile = filepath.Join(certsDir, "public.crt")
		if err := writeSelfSignedCert(m.caFile, filepath.Join(certsDir, "private.key")); err != nil {
			tb.Fatalf("testenv: %v", err)
		}
	}
	env := []string{
		"MINIO_ROOT_USER=" + m.accessKey,
		"MINIO_ROOT_PASSWORD=" + m.secretKey,
		"MINIO_BROWSER=off",
		"MINIO_UPDATE=off",
	}
	if m.notify {
		id := notifyTargetID
		env = append(env,
			"MINIO_NOTIFY_KAFKA_ENABLE_"+id+"=on",
			"MINIO_NOTIFY_KAFKA_BROKERS_"+id+"="+strings.Join(cfg.notifyBrokers, ","),
			"MINIO_NOTIFY_KAFKA_TOPIC_"+id+"="+cfg.notifyTopic,
		)
	}
	m.proc = &process{
		name: "minio",
		path: bin,
		// The address is filled in below.
		args:    []string{"server", "--address", "", "--certs-dir", certsDir, filepath.Join(dir, "data")},
		env:     environ([]string{"MINIO_"}, env...),
		logPath: filepath.Join(dir, "minio.log"),
	}
	m.proc.registerCleanup(tb)

	// The free port may be taken between choosing and binding it: retry
	// with another one when the server exits during start-up.
	const attempts = 3
	for i := 1; ; i++ {
		m.addr = hostPort(freePort(tb))
		m.proc.args[2] = m.addr
		err := m.start()
		if err == nil {
			break
		}
		if !errors.Is(err, errExited) || i == attempts {
			tb.Fatalf("testenv: %v", err)
		}
	}
	return m
}

// Endpoint returns the server's host:port, as minio.New expects it.
func (m *MinIO) Endpoint() string { return m.addr }

// AccessKey returns the root access key.
func (m *MinIO) AccessKey() string { return m.accessKey }

// SecretKey returns the root secret key.
func (m *MinIO) SecretKey() string { return m.secretKey }

// TLS reports whether the server serves HTTPS (WithTLS).
func (m *MinIO) TLS() bool { return m.caFile != "" }

// CAFile returns the PEM certificate that signs the server's certificate, or
// "" without WithTLS.
func (m *MinIO) CAFile() string { return m.caFile }

// NotifyARN returns the ARN of the Kafka notification target, for
// SetBucketNotification. The test fails if the server was started without
// WithKafkaNotify.
func (m *MinIO) NotifyARN() string {
	m.tb.Helper()
	if !m.notify {
		m.tb.Fatalf("testenv: NotifyARN needs StartMinIO(..., WithKafkaNotify(...))")
	}
	return "arn:minio:sqs::" + notifyTargetID + ":kafka"
}

// Client returns a minio-go client for the server with root credentials.
func (m *MinIO) Client(tb testing.TB) *minio.Client {
	tb.Helper()
	c, err := m.newClient()
	if err != nil {
		tb.Fatalf("testenv: %v", err)
	}
	return c
}

func (m *MinIO) newClient() (*minio.Client, error) {
	transport, err := m.transport()
	if err != nil {
		return nil, err
	}
	c, err := minio.New(m.addr, &minio.Options{
		Creds:     credentials.NewStaticV4(m.accessKey, m.secretKey, ""),
		Secure:    m.TLS(),
		Region:    Region,
		Transport: transport,
	})
	if err != nil {
		return nil, fmt.Errorf("minio client: %w", err)
	}
	return c, nil
}

// MakeBucket creates a bucket.
func (m *MinIO) MakeBucket(bucket string) {
	m.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := m.Client(m.tb).MakeBucket(ctx, bucket, minio.MakeBucketOptions{Region: Region}); err != nil {
		m.tb.Fatalf("testenv: make bucket %s: %v", bucket, err)
	}
}

// NotifyObjectCreated sends the s3:ObjectCreated:* events of objects under
// prefix in bucket to the Kafka notification target, replacing the bucket's
// notification configuration.
func (m *MinIO) NotifyObjectCreated(bucket, prefix string) {
	m.tb.Helper()
	arn, err := notification.NewArnFromString(m.NotifyARN())
	if err != nil {
		m.tb.Fatalf("testenv: %v", err)
	}
	q := notification.NewConfig(arn)
	q.AddEvents(notification.ObjectCreatedAll)
	if prefix != "" {
		q.AddFilterPrefix(prefix)
	}
	var cfg notification.Configuration
	cfg.AddQueue(q)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Right after start the server may not know its notification target yet ("destination ARN does not exist"):
	// retry until the deadline.
	for {
		err := m.Client(m.tb).SetBucketNotification(ctx, bucket, cfg)
		if err == nil {
			return
		}
		select {
		case <-ctx.Done():
			m.tb.Fatalf("testenv: set notification on %s: %v", bucket, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Stop stops the server; its data directory is kept for Restart. Stopping a
// stopped server does nothing.
func (m *MinIO) Stop() {
	m.tb.Helper()
	if err := m.proc.stop(); err != nil {
		m.tb.Fatalf("testenv: %v", err)
	}
}

// Restart stops the server if it runs and starts it again with the same
// address, credentials and data directory.
func (m *MinIO) Restart() {
	m.tb.Helper()
	m.Stop()
	if err := m.start(); err != nil {
		m.tb.Fatalf("testenv: restart: %v", err)
	}
}

func (m *MinIO) start() error {
	if err := m.proc.start(); err != nil {
		return err
	}
	transport, err := m.transport()
	if err != nil {
		return err
	}
	client := &http.Client{Transport: transport, Timeout: 5 * time.Second}
	scheme := "http"
	if m.TLS() {
		scheme = "https"
	}
	url := scheme + "://" + m.addr + "/minio/health/ready"
	s3, err := m.newClient()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	// Ready only once an S3 call succeeds too: a fresh server can pass its
	// health check and still answer "Server not initialized yet" for a moment.
	return m.proc.waitUntil(ctx, func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: %s", url, resp.Status)
		}
		_, err = s3.ListBuckets(ctx)
		return err
	})
}

// transport returns an HTTP transport that trusts the server's certificate
// when it serves TLS.
func (m *MinIO) transport() (*http.Transport, error) {
	t, err := minio.DefaultTransport(m.TLS())
	if err != nil {
		return nil, err
	}
	if m.TLS() {
		caPEM, err := os.ReadFile(m.caFile)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(caPEM) {
			return nil, fmt.Errorf("no certificate in %s", m.caFile)
		}
		t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return t, nil
}

// writeSelfSignedCert writes a self-signed certificate (usable as its own
// CA) for 127.0.0.1, ::1 and localhost, and its private key, in PEM.
func writeSelfSignedCert(certPath, keyPath string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "vitseg testenv"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return fmt.Errorf("self-signed certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		return err
	}
	return os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600)
}
