package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/vitseg/vitseg/internal/envflag"
	"github.com/vitseg/vitseg/internal/objstore"
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
	src := reconcile.Sources{S3: client, Kafka: kafkaconn.Cluster{Brokers: envflag.List(topics.brokers), Dialer: dialer},
		ResultTopic: topics.resultTopic, DeadLetterTopic: topics.dlqTopic}
	rep, err := reconcile.Run(ctx, src, reconcile.Query{Bucket: *bucket, Prefix: *prefix, OutputPrefix: *outPrefix, Since: from})
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

// writeReconcileReport prints the report as indented JSON or as text.
func writeReconcileReport(w io.Writer, rep reconcile.Report, asJSON bool) error {
	if !asJSON {
		return rep.WriteText(w)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}
