package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"
)

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		want    config
		wantErr bool
	}{
		{
			name: "full",
			env:  map[string]string{"VITSEG_S3_ACCESS_KEY": "ak", "VITSEG_S3_SECRET_KEY": "sk"},
			args: []string{"--s3-endpoint", "h:1", "--kafka-brokers", "k:1, k:2", "--buckets", "pets,models",
				"--notify", "pets/uploads/", "--notify", "models", "--notify-arn", "arn:minio:sqs::X:kafka"},
			want: config{endpoint: "h:1", accessKey: "ak", secretKey: "sk", brokers: []string{"k:1", "k:2"},
				buckets: []string{"pets", "models"}, notify: []notifySpec{{"pets", "uploads/"}, {"models", ""}},
				arn: "arn:minio:sqs::X:kafka", timeout: time.Minute},
		},
		{name: "no credentials", args: []string{"--buckets", "pets"}, wantErr: true},
		{
			name: "notify without ARN", env: map[string]string{"VITSEG_S3_ACCESS_KEY": "ak", "VITSEG_S3_SECRET_KEY": "sk"},
			args: []string{"--notify", "pets/x"}, wantErr: true,
		},
		{
			name: "notify without bucket", env: map[string]string{"VITSEG_S3_ACCESS_KEY": "ak", "VITSEG_S3_SECRET_KEY": "sk"},
			args: []string{"--notify", "/x", "--notify-arn", "arn:minio:sqs::X:kafka"}, wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("VITSEG_S3_ACCESS_KEY", tt.env["VITSEG_S3_ACCESS_KEY"])
			t.Setenv("VITSEG_S3_SECRET_KEY", tt.env["VITSEG_S3_SECRET_KEY"])
			got, err := parseFlags(tt.args, io.Discard)
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseFlags error = %v, want error: %v", err, tt.wantErr)
			}
			if err == nil && fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// minioBinary finds the MinIO server the way internal/testsupport/testenv does:
// VITSEG_MINIO_BIN, else the cache path of the pinned version, which the
// vitseg module's vitseg-paths command (package internal/host/runtimepaths) gives.
func minioBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("VITSEG_MINIO_BIN"); p != "" {
		return p
	}
	cmd := exec.Command("go", "-C", filepath.Join("..", ".."), "run", "./cmd/vitseg-paths", "vitseg_minio_bin")
	cmd.Env = append(os.Environ(), "GOWORK=off", "CGO_ENABLED=0")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("vitseg-paths: %v", err)
	}
	p := strings.TrimSpace(string(out))
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("MinIO not found at %s; run scripts/setup.sh minio (or set VITSEG_MINIO_BIN)", p)
	}
	return p
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startMinIO runs a MinIO server with a Kafka notification target named
// STACKINIT that publishes to topic on brokers.
func startMinIO(t *testing.T, access, secret string, brokers []string, topic string) string {
	t.Helper()
	dir := t.TempDir()
	addr := freeAddr(t)
	cmd := exec.Command(minioBinary(t), "server", "--address", addr, "--certs-dir", filepath.Join(dir, "certs"), filepath.Join(dir, "data"))
	cmd.Env = append(os.Environ(),
		"MINIO_ROOT_USER="+access, "MINIO_ROOT_PASSWORD="+secret, "MINIO_BROWSER=off", "MINIO_UPDATE=off",
		"MINIO_NOTIFY_KAFKA_ENABLE_STACKINIT=on",
		"MINIO_NOTIFY_KAFKA_BROKERS_STACKINIT="+strings.Join(brokers, ","),
		"MINIO_NOTIFY_KAFKA_TOPIC_STACKINIT="+topic,
	)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("minio output:\n%s", out.String())
		}
	})
	return addr
}

func TestRunPreparesBucketsAndNotification(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "vitseg.images"))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	brokers := cluster.ListenAddrs()

	access, secret := "stackinit", "stackinit-secret-key"
	endpoint := startMinIO(t, access, secret, brokers, "vitseg.images")
	t.Setenv("VITSEG_S3_ACCESS_KEY", access)
	t.Setenv("VITSEG_S3_SECRET_KEY", secret)
	args := []string{
		"--s3-endpoint", endpoint, "--kafka-brokers", strings.Join(brokers, ","), "--buckets", "pets,models",
		"--notify", "pets/uploads/", "--notify-arn", "arn:minio:sqs::STACKINIT:kafka", "--timeout", "60s",
	}

	// Twice: the second run finds everything in place.
	for i, want := range []string{"bucket pets created", "bucket pets exists"} {
		var out bytes.Buffer
		if err := run(context.Background(), args, &out, io.Discard); err != nil {
			t.Fatalf("run %d: %v", i+1, err)
		}
		if !strings.Contains(out.String(), want) {
			t.Errorf("run %d output lacks %q:\n%s", i+1, want, out.String())
		}
	}

	client, err := minio.New(endpoint, &minio.Options{Creds: credentials.NewStaticV4(access, secret, "")})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if ok, err := client.BucketExists(ctx, "models"); err != nil || !ok {
		t.Errorf("bucket models exists = %v, %v", ok, err)
	}
	for _, key := range []string{"other/skip.jpg", "uploads/a b.jpg"} {
		if _, err := client.PutObject(ctx, "pets", key, strings.NewReader("x"), 1, minio.PutObjectOptions{}); err != nil {
			t.Fatalf("put %s: %v", key, err)
		}
	}

	r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: "vitseg.images", Partition: 0, MaxWait: 100 * time.Millisecond})
	defer r.Close()
	m, err := r.ReadMessage(ctx)
	if err != nil {
		t.Fatalf("no event on vitseg.images: %v", err)
	}
	var ev struct {
		Records []struct {
			S3 struct {
				Object struct {
					Key string `json:"key"`
				} `json:"object"`
			} `json:"s3"`
		}
	}
	if err := json.Unmarshal(m.Value, &ev); err != nil || len(ev.Records) != 1 {
		t.Fatalf("event %s: %v", m.Value, err)
	}
	if key, err := url.QueryUnescape(ev.Records[0].S3.Object.Key); err != nil || key != "uploads/a b.jpg" {
		t.Errorf("event key %q decodes to %q (%v), want uploads/a b.jpg", ev.Records[0].S3.Object.Key, key, err)
	}
}
