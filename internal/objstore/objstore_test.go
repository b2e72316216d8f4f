package objstore

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/vitseg/vitseg/internal/envflag"
	"github.com/vitseg/vitseg/internal/testsupport/testenv"
)

func parseConfig(t *testing.T, args ...string) (Config, error) {
	t.Helper()
	var c Config
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c.RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	return c, envflag.Apply(fs, "VITSEG")
}

func TestFlagsDefaultsAndEnvironment(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want Config
	}{
		{
			name: "defaults",
			want: Config{Endpoint: DefaultEndpoint, Region: DefaultRegion},
		},
		{
			name: "flags",
			args: []string{"--s3-endpoint", "minio:9000", "--s3-region", "eu-west-1", "--s3-tls", "--s3-ca-file", "/ca.pem",
				"--s3-access-key", "ak", "--s3-secret-key-file", "/run/secret"},
			want: Config{Endpoint: "minio:9000", Region: "eu-west-1", TLS: true, CAFile: "/ca.pem", AccessKey: "ak", SecretKeyFile: "/run/secret"},
		},
		{
			name: "environment",
			env: map[string]string{
				"VITSEG_S3_ENDPOINT": "env:9000", "VITSEG_S3_ACCESS_KEY": "envak", "VITSEG_S3_SECRET_KEY": "envsk",
				"VITSEG_S3_INSECURE_SKIP_VERIFY": "true", "VITSEG_S3_TLS": "true",
			},
			want: Config{Endpoint: "env:9000", Region: DefaultRegion, AccessKey: "envak", SecretKey: "envsk", TLS: true, InsecureSkipVerify: true},
		},
		{
			name: "flags win over the environment",
			args: []string{"--s3-access-key", "flagak"},
			env:  map[string]string{"VITSEG_S3_ACCESS_KEY": "envak", "VITSEG_S3_SECRET_KEY_FILE": "/envfile"},
			want: Config{Endpoint: DefaultEndpoint, Region: DefaultRegion, AccessKey: "flagak", SecretKeyFile: "/envfile"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			got, err := parseConfig(t, tt.args...)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestSecretNeverPrinted(t *testing.T) {
	const secret = "hunter2-very-secret"
	c := Config{Endpoint: "e:1", Region: "r", AccessKey: "ak", SecretKey: secret}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		if out := fmt.Sprintf(verb, c); strings.Contains(out, secret) {
			t.Errorf("%s prints the secret: %s", verb, out)
		} else if !strings.Contains(out, "ak") {
			t.Errorf("%s omits the access key: %s", verb, out)
		}
	}
	if out := fmt.Sprintf("%+v", &c); strings.Contains(out, secret) {
		t.Errorf("%%+v of a pointer prints the secret: %s", out)
	}

	var buf bytes.Buffer
	logger := zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(&buf), zap.InfoLevel))
	logger.Info("config", zap.Object("s3", c))
	if strings.Contains(buf.String(), secret) || !strings.Contains(buf.String(), `"secret_key":"<redacted>"`) {
		t.Errorf("zap output does not redact the secret: %s", buf.String())
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		c       Config
		wantErr bool
	}{
		{"anonymous", Config{Endpoint: "h:1"}, false},
		{"static credentials", Config{Endpoint: "h:1", AccessKey: "a", SecretKey: "s"}, false},
		{"secret from file", Config{Endpoint: "h:1", AccessKey: "a", SecretKeyFile: "/f"}, false},
		{"https endpoint", Config{Endpoint: "https://h:1"}, false},
		{"http endpoint", Config{Endpoint: "http://h:1/"}, false},
		{"insecure with tls", Config{Endpoint: "h:1", TLS: true, InsecureSkipVerify: true}, false},
		{"insecure with CA file", Config{Endpoint: "h:1", CAFile: "/ca", InsecureSkipVerify: true}, false},
		{"empty endpoint", Config{}, true},
		{"endpoint with path", Config{Endpoint: "h:1/bucket"}, true},
		{"unknown scheme", Config{Endpoint: "s3://h:1"}, true},
		{"http endpoint with tls", Config{Endpoint: "http://h:1", TLS: true}, true},
		{"insecure without tls", Config{Endpoint: "h:1", InsecureSkipVerify: true}, true},
		{"secret without access key", Config{Endpoint: "h:1", SecretKey: "s"}, true},
		{"access key without secret", Config{Endpoint: "h:1", AccessKey: "a"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.c.Validate()
			if (err != nil) != tt.wantErr {
				t.Fatalf("Validate() = %v, want error: %v", err, tt.wantErr)
			}
			if err != nil && !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("error %v does not wrap ErrInvalidConfig", err)
			}
		})
	}
}

func TestNewRejectsUnreadableFiles(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	notPEM := filepath.Join(dir, "ca.txt")
	for path, data := range map[string]string{empty: "\n", notPEM: "not a certificate"} {
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		c    Config
	}{
		{"missing secret file", Config{Endpoint: "h:1", AccessKey: "a", SecretKeyFile: filepath.Join(dir, "nope")}},
		{"empty secret file", Config{Endpoint: "h:1", AccessKey: "a", SecretKeyFile: empty}},
		{"missing CA file", Config{Endpoint: "h:1", CAFile: filepath.Join(dir, "nope")}},
		{"CA file without PEM", Config{Endpoint: "h:1", CAFile: notPEM}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.c); !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("New() error = %v, want ErrInvalidConfig", err)
			}
		})
	}
}

func TestParseURL(t *testing.T) {
	tests := []struct {
		in             string
		bucket, prefix string
		wantErr        bool
	}{
		{in: "s3://pets", bucket: "pets"},
		{in: "s3://pets/", bucket: "pets"},
		{in: "s3://pets/train", bucket: "pets", prefix: "train"},
		{in: "s3://pets/train/images/", bucket: "pets", prefix: "train/images/"},
		{in: "s3://my-bucket.1/a b+c%20?#", bucket: "my-bucket.1", prefix: "a b+c%20?#"},
		{in: "pets/train", wantErr: true},
		{in: "S3://pets", wantErr: true},
		{in: "s3://", wantErr: true},
		{in: "s3:///prefix", wantErr: true},
		{in: "s3://Bad_Bucket/x", wantErr: true},
		{in: "s3://ab/x", wantErr: true},
	}
	for _, tt := range tests {
		bucket, prefix, err := ParseURL(tt.in)
		if tt.wantErr {
			if !errors.Is(err, ErrInvalidURL) {
				t.Errorf("ParseURL(%q) error = %v, want ErrInvalidURL", tt.in, err)
			}
			continue
		}
		if err != nil || bucket != tt.bucket || prefix != tt.prefix {
			t.Errorf("ParseURL(%q) = %q, %q, %v; want %q, %q", tt.in, bucket, prefix, err, tt.bucket, tt.prefix)
		}
	}
	if !IsURL("s3://pets") || IsURL("/data/pets") {
		t.Error("IsURL does not tell s3:// locations from paths")
	}
}

// roundTrip creates a bucket through client, puts an object and reads it
// back.
func roundTrip(t *testing.T, client *minio.Client, bucket string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := client.MakeBucket(ctx, bucket, minio.MakeBucketOptions{}); err != nil {
		return err
	}
	data := []byte("mask bytes")
	if _, err := client.PutObject(ctx, bucket, "masks/a.png", bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{}); err != nil {
		return err
	}
	obj, err := client.GetObject(ctx, bucket, "masks/a.png", minio.GetObjectOptions{})
	if err != nil {
		return err
	}
	defer obj.Close()
	got, err := io.ReadAll(obj)
	if err != nil {
		return err
	}
	if !bytes.Equal(got, data) {
		return fmt.Errorf("read back %q, want %q", got, data)
	}
	return nil
}

func TestNewAgainstMinIO(t *testing.T) {
	m := testenv.StartMinIO(t)
	secretFile := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secretFile, []byte(m.SecretKey()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	wrongSecret := filepath.Join(t.TempDir(), "wrong")
	if err := os.WriteFile(wrongSecret, []byte("wrong"), 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name     string
		c        Config
		wantCode string // S3 error code; empty for success
	}{
		{"secret key", Config{Endpoint: m.Endpoint(), AccessKey: m.AccessKey(), SecretKey: m.SecretKey()}, ""},
		{"secret key file", Config{Endpoint: m.Endpoint(), AccessKey: m.AccessKey(), SecretKey: "ignored", SecretKeyFile: secretFile}, ""},
		{"http URL endpoint", Config{Endpoint: "http://" + m.Endpoint(), Region: "us-east-1", AccessKey: m.AccessKey(), SecretKey: m.SecretKey()}, ""},
		{"wrong secret", Config{Endpoint: m.Endpoint(), AccessKey: m.AccessKey(), SecretKeyFile: wrongSecret}, "SignatureDoesNotMatch"},
		{"anonymous", Config{Endpoint: m.Endpoint()}, "AccessDenied"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client, err := New(tt.c)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			err = roundTrip(t, client, fmt.Sprintf("bucket-%d", i))
			if code := minio.ToErrorResponse(err).Code; code != tt.wantCode || (tt.wantCode == "" && err != nil) {
				t.Errorf("round trip error = %v (code %q), want code %q", err, code, tt.wantCode)
			}
		})
	}
}

func TestNewWithTLS(t *testing.T) {
	m := testenv.StartMinIO(t, testenv.WithTLS())
	base := Config{Endpoint: m.Endpoint(), AccessKey: m.AccessKey(), SecretKey: m.SecretKey()}
	tests := []struct {
		name    string
		edit    func(*Config)
		wantErr bool
	}{
		{"CA file", func(c *Config) { c.CAFile = m.CAFile() }, false},
		{"https URL and CA file", func(c *Config) { c.Endpoint = "https://" + c.Endpoint; c.CAFile = m.CAFile() }, false},
		{"insecure skip verify", func(c *Config) { c.TLS = true; c.InsecureSkipVerify = true }, false},
		{"untrusted certificate", func(c *Config) { c.TLS = true }, true},
		{"plain HTTP to a TLS server", func(*Config) {}, true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := base
			tt.edit(&c)
			client, err := New(c)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			err = roundTrip(t, client, fmt.Sprintf("tls-%d", i))
			if (err != nil) != tt.wantErr {
				t.Errorf("round trip error = %v, want error: %v", err, tt.wantErr)
			}
		})
	}
}
