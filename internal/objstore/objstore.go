// Package objstore holds vitseg's S3 plumbing: the client configuration shared
// by every command (its flags, its validation and the minio-go client built
// from it), the parsing of s3://bucket/prefix locations, the one bounded read
// (Get), and the one classification of S3's answers (IsNotFound,
// IsPreconditionFailed, by minio's error codes).
package objstore

import (
	"cmp"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/s3utils"
	"go.uber.org/zap/zapcore"
)

// Defaults of the S3 flags.
const (
	DefaultEndpoint = "localhost:9000"
	DefaultRegion   = "us-east-1"
)

// ErrInvalidConfig is wrapped by every configuration error of Validate and
// New.
var ErrInvalidConfig = errors.New("invalid s3 configuration")

// ErrInvalidURL is wrapped by every error of ParseURL.
var ErrInvalidURL = errors.New("invalid s3 URL")

// Config is how to reach an S3 endpoint. Commands bind it to flags with
// RegisterFlags; the environment fallbacks (VITSEG_S3_ENDPOINT, ...,
// VITSEG_S3_SECRET_KEY) come from envflag.Apply(fs, "VITSEG") after parsing.
type Config struct {
	// Endpoint is the server's host:port. An http:// or https:// prefix is
	// accepted; https:// implies TLS.
	Endpoint string
	// Region is the region requests are signed for.
	Region string
	// AccessKey and SecretKey are the static credentials; both empty means
	// anonymous requests. SecretKey is never printed or logged.
	AccessKey string
	SecretKey string
	// SecretKeyFile, when set, names a file whose content (trailing
	// newline removed) is the secret key; it takes precedence over
	// SecretKey.
	SecretKeyFile string
	// TLS enables HTTPS. A non-empty CAFile implies TLS.
	TLS bool
	// CAFile is a PEM bundle of CAs that verify the server's certificate,
	// added to the system roots.
	CAFile string
	// InsecureSkipVerify disables certificate verification (TLS only; for
	// development).
	InsecureSkipVerify bool
	// MaxRetries is how many times minio-go tries each request (1: once,
	// for callers that own the retries, like the pipeline); 0 keeps
	// minio-go's default (10). Not a flag: each command sets it.
	MaxRetries int
}

// RegisterFlags registers --s3-endpoint, --s3-region, --s3-tls, --s3-ca-file,
// --s3-insecure-skip-verify, --s3-access-key, --s3-secret-key and
// --s3-secret-key-file on fs, bound to c. The flag defaults are c's current
// values, or DefaultEndpoint and DefaultRegion where those are empty.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Endpoint, "s3-endpoint", cmp.Or(c.Endpoint, DefaultEndpoint), "S3 endpoint `host:port`")
	fs.StringVar(&c.Region, "s3-region", cmp.Or(c.Region, DefaultRegion), "S3 region")
	fs.BoolVar(&c.TLS, "s3-tls", c.TLS, "use HTTPS to the S3 endpoint")
	fs.StringVar(&c.CAFile, "s3-ca-file", c.CAFile, "PEM `file` of CAs for the S3 endpoint's certificate (implies --s3-tls)")
	fs.BoolVar(&c.InsecureSkipVerify, "s3-insecure-skip-verify", c.InsecureSkipVerify, "do not verify the S3 endpoint's certificate (development only)")
	fs.StringVar(&c.AccessKey, "s3-access-key", c.AccessKey, "S3 access key")
	fs.StringVar(&c.SecretKey, "s3-secret-key", c.SecretKey, "S3 secret key (prefer VITSEG_S3_SECRET_KEY or --s3-secret-key-file)")
	fs.StringVar(&c.SecretKeyFile, "s3-secret-key-file", c.SecretKeyFile, "`file` holding the S3 secret key (takes precedence over --s3-secret-key)")
}

// TLSEnabled reports whether requests use HTTPS.
func (c Config) TLSEnabled() bool {
	_, scheme, _ := c.hostPort()
	return c.TLS || c.CAFile != "" || scheme == "https"
}

// hostPort splits an optional http:// or https:// prefix off the endpoint.
func (c Config) hostPort() (host, scheme string, err error) {
	host = strings.TrimSpace(c.Endpoint)
	if s, rest, ok := strings.Cut(host, "://"); ok {
		switch strings.ToLower(s) {
		case "http", "https":
			scheme, host = strings.ToLower(s), strings.TrimSuffix(rest, "/")
		default:
			return "", "", fmt.Errorf("%w: endpoint %q: scheme must be http or https", ErrInvalidConfig, c.Endpoint)
		}
	}
	switch {
	case host == "":
		return "", "", fmt.Errorf("%w: endpoint is empty", ErrInvalidConfig)
	case strings.ContainsAny(host, "/?#"):
		return "", "", fmt.Errorf("%w: endpoint %q must be host:port without a path", ErrInvalidConfig, c.Endpoint)
	}
	return host, scheme, nil
}

// Validate checks the configuration without reading any file.
func (c Config) Validate() error {
	_, scheme, err := c.hostPort()
	if err != nil {
		return err
	}
	if scheme == "http" && (c.TLS || c.CAFile != "") {
		return fmt.Errorf("%w: endpoint %q is http:// but TLS is requested", ErrInvalidConfig, c.Endpoint)
	}
	if c.InsecureSkipVerify && !c.TLSEnabled() {
		return fmt.Errorf("%w: --s3-insecure-skip-verify needs TLS", ErrInvalidConfig)
	}
	hasSecret := c.SecretKey != "" || c.SecretKeyFile != ""
	if c.AccessKey == "" && hasSecret {
		return fmt.Errorf("%w: a secret key is set without --s3-access-key", ErrInvalidConfig)
	}
	if c.AccessKey != "" && !hasSecret {
		return fmt.Errorf("%w: --s3-access-key is set without a secret key (VITSEG_S3_SECRET_KEY or --s3-secret-key-file)", ErrInvalidConfig)
	}
	return nil
}

// secret returns the secret key, read from SecretKeyFile when that is set.
func (c Config) secret() (string, error) {
	if c.SecretKeyFile == "" {
		return c.SecretKey, nil
	}
	data, err := os.ReadFile(c.SecretKeyFile)
	if err != nil {
		return "", fmt.Errorf("%w: secret key file: %w", ErrInvalidConfig, err)
	}
	s := strings.TrimRight(string(data), "\r\n")
	if s == "" {
		return "", fmt.Errorf("%w: secret key file %s is empty", ErrInvalidConfig, c.SecretKeyFile)
	}
	return s, nil
}

// transport returns the HTTP transport for the configuration's TLS settings.
func (c Config) transport() (*http.Transport, error) {
	t, err := minio.DefaultTransport(c.TLSEnabled())
	if err != nil {
		return nil, fmt.Errorf("s3 transport: %w", err)
	}
	if !c.TLSEnabled() {
		return t, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: c.InsecureSkipVerify} //nolint:gosec // opt-in for development
	if c.CAFile != "" {
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		caPEM, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("%w: CA file: %w", ErrInvalidConfig, err)
		}
		if !pool.AppendCertsFromPEM(caPEM) {
			return nil, fmt.Errorf("%w: CA file %s holds no PEM certificate", ErrInvalidConfig, c.CAFile)
		}
		tc.RootCAs = pool
	}
	t.TLSClientConfig = tc
	return t, nil
}

// New validates c, reads its secret key file and CA file, and returns a
// minio-go client for it. It does not contact the server.
func New(c Config) (*minio.Client, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	host, _, err := c.hostPort()
	if err != nil {
		return nil, err
	}
	secret, err := c.secret()
	if err != nil {
		return nil, err
	}
	transport, err := c.transport()
	if err != nil {
		return nil, err
	}
	client, err := minio.New(host, &minio.Options{
		Creds:      credentials.NewStaticV4(c.AccessKey, secret, ""),
		Secure:     c.TLSEnabled(),
		Region:     cmp.Or(c.Region, DefaultRegion),
		Transport:  transport,
		MaxRetries: c.MaxRetries,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	return client, nil
}

func (c Config) redactedSecret() string {
	switch {
	case c.SecretKeyFile != "":
		return "<from file>"
	case c.SecretKey != "":
		return "<redacted>"
	}
	return "<unset>"
}

// String describes the configuration without the secret key.
func (c Config) String() string {
	return fmt.Sprintf("endpoint=%s region=%s tls=%t ca_file=%q insecure_skip_verify=%t access_key=%q secret_key=%s secret_key_file=%q",
		c.Endpoint, c.Region, c.TLSEnabled(), c.CAFile, c.InsecureSkipVerify, c.AccessKey, c.redactedSecret(), c.SecretKeyFile)
}

// GoString keeps %#v from printing the secret key.
func (c Config) GoString() string { return "objstore.Config{" + c.String() + "}" }

// MarshalLogObject lets zap log the configuration without the secret key.
func (c Config) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	enc.AddString("endpoint", c.Endpoint)
	enc.AddString("region", c.Region)
	enc.AddBool("tls", c.TLSEnabled())
	if c.CAFile != "" {
		enc.AddString("ca_file", c.CAFile)
	}
	if c.InsecureSkipVerify {
		enc.AddBool("insecure_skip_verify", true)
	}
	enc.AddString("access_key", c.AccessKey)
	enc.AddString("secret_key", c.redactedSecret())
	if c.SecretKeyFile != "" {
		enc.AddString("secret_key_file", c.SecretKeyFile)
	}
	return nil
}

// URLScheme is the prefix of the locations ParseURL accepts.
const URLScheme = "s3://"

// IsURL reports whether s is an s3:// location rather than a local path.
func IsURL(s string) bool { return strings.HasPrefix(s, URLScheme) }

// ParseURL splits "s3://bucket/prefix" into the bucket and the key prefix.
// The prefix is returned as written, without the slash that separates it
// from the bucket ("s3://pets" and "s3://pets/" have an empty prefix;
// "s3://pets/train/" has "train/"). The bucket must be a valid bucket name.
func ParseURL(s string) (bucket, prefix string, err error) {
	rest, ok := strings.CutPrefix(s, URLScheme)
	if !ok {
		return "", "", fmt.Errorf("%w: %q does not start with %s", ErrInvalidURL, s, URLScheme)
	}
	bucket, prefix, _ = strings.Cut(rest, "/")
	if err := s3utils.CheckValidBucketNameStrict(bucket); err != nil {
		return "", "", fmt.Errorf("%w: %q: %w", ErrInvalidURL, s, err)
	}
	return bucket, prefix, nil
}
