package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/vitseg/vitseg/events"
	"github.com/vitseg/vitseg/internal/envflag"
	"github.com/vitseg/vitseg/internal/objstore"
	"github.com/vitseg/vitseg/internal/ops/eventlog"
	"github.com/vitseg/vitseg/internal/ops/reconcile"
	"github.com/vitseg/vitseg/kafkaconn"
)

// errIncomplete is returned (exit status 1) when reconcile finds something missing.
var errIncomplete = errors.New("reconcile: incomplete")

// runReconcile matches the objects under a prefix with the result and dead-letter topics.
func runReconcile(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("reconcile", "reconcile --bucket B [--prefix P] [--since D] [--json] [flags]", stderr)
	bucket := fs.String("bucket", "", "bucket of the source objects (required)")
	prefix := fs.String("prefix", "", "key prefix of the source objects")
	since := fs.String("since", "", "only objects modified within this duration (24h) or since this RFC 3339 time")
	outPrefix := fs.String("output-prefix", "masks/", "key prefix of the masks, never counted as a source object")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	var topics eventTopicFlags
	var s3 objstore.Config
	topics.registerResults(fs)
	s3.RegisterFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *bucket == "" {
		return usagef("reconcile: --bucket is required")
	}
	from, err := parseSince(*since, time.Now())
	if err != nil {
		return err
	}
	client, err := objstore.New(s3)
	if err != nil {
		return err
	}
	dialer, err := topics.ksec.Dialer("vitseg-reconcile", 10*time.Second)
	if err != nil {
		return err
	}
	objects, err := listSources(ctx, client, *bucket, *prefix, *outPrefix, from)
	if err != nil {
		return err
	}
	src := kafkaconn.Cluster{Brokers: envflag.List(topics.brokers), Dialer: dialer}
	results, letters, err := readEvents(ctx, src, topics)
	if err != nil {
		return err
	}
	rep, err := reconcile.Build(ctx, *bucket, *prefix, objects, results, letters, maskExists(client))
	if err != nil {
		return err
	}
	if err := writeReconcileReport(stdout, rep, *asJSON); err != nil {
		return err
	}
	if !rep.Complete() {
		return fmt.Errorf("%w: %d objects missing, %d masks missing", errIncomplete, rep.Counts[reconcile.StatusMissing], len(rep.MissingMasks))
	}
	return nil
}

// readEvents reads the result and dead-letter topics from the start to their current ends.
func readEvents(ctx context.Context, src kafkaconn.Cluster, topics eventTopicFlags) ([]events.ResultEvent, []events.DeadLetterEvent, error) {
	results, _, err := eventlog.Read(ctx, src, topics.resultTopic, events.DecodeResult)
	if err != nil {
		return nil, nil, err
	}
	letters, _, err := eventlog.Read(ctx, src, topics.dlqTopic, events.DecodeDeadLetter)
	if err != nil {
		return nil, nil, err
	}
	return results, letters, nil
}

// writeReconcileReport prints the report as indented JSON or as text.
func writeReconcileReport(w io.Writer, rep reconcile.Report, asJSON bool) error {
	if !asJSON {
		return rep.WriteText(w)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// listSources lists the objects under prefix modified at or after from, leaving out the masks.
func listSources(ctx context.Context, client *minio.Client, bucket, prefix, outPrefix string, from time.Time) ([]reconcile.Object, error) {
	var out []reconcile.Object
	for info := range client.ListObjects(ctx, bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if info.Err != nil {
			return nil, fmt.Errorf("list s3://%s/%s: %w", bucket, prefix, info.Err)
		}
		if (outPrefix != "" && strings.HasPrefix(info.Key, outPrefix)) || info.LastModified.Before(from) {
			continue
		}
		out = append(out, reconcile.Object{Bucket: bucket, Key: info.Key, ETag: strings.Trim(info.ETag, `"`)})
	}
	return out, nil
}

// maskExists checks a mask with a HEAD request.
func maskExists(client *minio.Client) reconcile.MaskExists {
	return func(ctx context.Context, m events.ObjectRef) (bool, error) {
		_, err := client.StatObject(ctx, m.Bucket, m.Key, minio.StatObjectOptions{})
		if err == nil {
			return true, nil
		}
		if code := minio.ToErrorResponse(err).Code; code == "NoSuchKey" || code == "NoSuchBucket" {
			return false, nil
		}
		return false, err
	}
}
