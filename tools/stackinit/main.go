// Command stackinit prepares a running development stack (scripts/devstack.sh):
// it waits until the Kafka-protocol broker and MinIO are ready, creates
// buckets and points bucket notifications at a Kafka notification target
// that MinIO was started with. Every step is idempotent.
//
// The S3 credentials come from the environment (VITSEG_S3_ACCESS_KEY,
// VITSEG_S3_SECRET_KEY), never from the command line.
//
// Usage:
//
//	stackinit --s3-endpoint 127.0.0.1:9000 --kafka-brokers 127.0.0.1:9092 \
//	    --buckets pets,models --notify pets/uploads/ --notify-arn arn:minio:sqs::vitseg:kafka
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/notification"
	"github.com/segmentio/kafka-go"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(2)
	case err != nil:
		fmt.Fprintf(os.Stderr, "stackinit: %v\n", err)
		os.Exit(1)
	}
}

// notifySpec routes object-created events under prefix in bucket to the
// notification target.
type notifySpec struct {
	bucket, prefix string
}

type config struct {
	endpoint  string
	accessKey string
	secretKey string
	brokers   []string
	buckets   []string
	notify    []notifySpec
	arn       string
	timeout   time.Duration
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("stackinit", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		cfg              config
		brokers, buckets string
		notify           multiFlag
	)
	fs.StringVar(&cfg.endpoint, "s3-endpoint", "127.0.0.1:9000", "MinIO `host:port`")
	fs.StringVar(&brokers, "kafka-brokers", "", "comma list of Kafka brokers to wait for (empty: do not wait)")
	fs.StringVar(&buckets, "buckets", "", "comma list of buckets to create")
	fs.Var(&notify, "notify", "`bucket/prefix` whose object-created events go to --notify-arn (repeatable)")
	fs.StringVar(&cfg.arn, "notify-arn", "", "notification target ARN, e.g. arn:minio:sqs::vitseg:kafka")
	fs.DurationVar(&cfg.timeout, "timeout", time.Minute, "how long to wait for the services and the setup")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	cfg.accessKey = os.Getenv("VITSEG_S3_ACCESS_KEY")
	cfg.secretKey = os.Getenv("VITSEG_S3_SECRET_KEY")
	if cfg.accessKey == "" || cfg.secretKey == "" {
		return config{}, errors.New("VITSEG_S3_ACCESS_KEY and VITSEG_S3_SECRET_KEY must be set")
	}
	cfg.brokers = splitList(brokers)
	cfg.buckets = splitList(buckets)
	for _, n := range notify {
		bucket, prefix, _ := strings.Cut(n, "/")
		if bucket == "" {
			return config{}, fmt.Errorf("--notify %q: bucket is required", n)
		}
		cfg.notify = append(cfg.notify, notifySpec{bucket: bucket, prefix: prefix})
	}
	if len(cfg.notify) > 0 && cfg.arn == "" {
		return config{}, errors.New("--notify needs --notify-arn")
	}
	return cfg, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()

	if len(cfg.brokers) > 0 {
		if err := waitForKafka(ctx, cfg.brokers); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "kafka ready at %s\n", strings.Join(cfg.brokers, ","))
	}
	client, err := minio.New(cfg.endpoint, &minio.Options{
		Creds: credentials.NewStaticV4(cfg.accessKey, cfg.secretKey, ""),
	})
	if err != nil {
		return fmt.Errorf("minio client: %w", err)
	}
	if err := waitForMinIO(ctx, cfg.endpoint, client); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "minio ready at %s\n", cfg.endpoint)
	for _, b := range cfg.buckets {
		created, err := ensureBucket(ctx, client, b)
		if err != nil {
			return err
		}
		if created {
			fmt.Fprintf(stdout, "bucket %s created\n", b)
		} else {
			fmt.Fprintf(stdout, "bucket %s exists\n", b)
		}
	}
	if err := setNotifications(ctx, client, cfg.arn, cfg.notify); err != nil {
		return err
	}
	for _, n := range cfg.notify {
		fmt.Fprintf(stdout, "notification s3:ObjectCreated:* on %s/%s -> %s\n", n.bucket, n.prefix, cfg.arn)
	}
	return nil
}

// poll calls check every interval until it succeeds or ctx ends, returning
// the last error in the latter case.
func poll(ctx context.Context, what string, check func(context.Context) error) error {
	for {
		err := check(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not ready: %w (last error: %v)", what, ctx.Err(), err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func waitForKafka(ctx context.Context, brokers []string) error {
	return poll(ctx, "kafka", func(ctx context.Context) error {
		conn, err := (&kafka.Dialer{Timeout: 2 * time.Second}).DialContext(ctx, "tcp", brokers[0])
		if err != nil {
			return err
		}
		defer conn.Close()
		_, err = conn.Brokers()
		return err
	})
}

// waitForMinIO waits until MinIO reports ready and answers an S3 call: a
// freshly started server can pass its health check and still refuse requests
// with "Server not initialized yet" for a moment.
func waitForMinIO(ctx context.Context, endpoint string, client *minio.Client) error {
	url := "http://" + endpoint + "/minio/health/ready"
	return poll(ctx, "minio", func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: %s", url, resp.Status)
		}
		_, err = client.ListBuckets(ctx)
		return err
	})
}

// ensureBucket creates bucket unless it exists and reports whether it did.
func ensureBucket(ctx context.Context, client *minio.Client, bucket string) (bool, error) {
	exists, err := client.BucketExists(ctx, bucket)
	if err != nil {
		return false, fmt.Errorf("bucket %s: %w", bucket, err)
	}
	if exists {
		return false, nil
	}
	if err := client.MakeBucket(ctx, bucket, minio.MakeBucketOptions{}); err != nil {
		return false, fmt.Errorf("create bucket %s: %w", bucket, err)
	}
	return true, nil
}

// setNotifications replaces the notification configuration of each bucket
// named in specs with queue configurations for those specs.
func setNotifications(ctx context.Context, client *minio.Client, arnStr string, specs []notifySpec) error {
	if len(specs) == 0 {
		return nil
	}
	arn, err := notification.NewArnFromString(arnStr)
	if err != nil {
		return fmt.Errorf("--notify-arn %q: %w", arnStr, err)
	}
	configs := make(map[string]*notification.Configuration)
	var order []string
	for _, s := range specs {
		c, ok := configs[s.bucket]
		if !ok {
			c = new(notification.Configuration)
			configs[s.bucket] = c
			order = append(order, s.bucket)
		}
		q := notification.NewConfig(arn)
		q.AddEvents(notification.ObjectCreatedAll)
		if s.prefix != "" {
			q.AddFilterPrefix(s.prefix)
		}
		if !c.AddQueue(q) {
			return fmt.Errorf("--notify %s/%s overlaps another --notify", s.bucket, s.prefix)
		}
	}
	for _, bucket := range order {
		if err := client.SetBucketNotification(ctx, bucket, *configs[bucket]); err != nil {
			return fmt.Errorf("set notification on %s: %w", bucket, err)
		}
	}
	return nil
}

// multiFlag collects every value of a repeatable flag.
type multiFlag []string

func (m *multiFlag) String() string { return strings.Join(*m, ",") }

func (m *multiFlag) Set(v string) error {
	*m = append(*m, v)
	return nil
}

func splitList(s string) []string {
	var out []string
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
