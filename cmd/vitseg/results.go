package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/vitseg/vitseg/events"
	"github.com/vitseg/vitseg/internal/envflag"
	"github.com/vitseg/vitseg/internal/objstore"
	"github.com/vitseg/vitseg/internal/ops/eventlog"
	"github.com/vitseg/vitseg/internal/ops/results"
	"github.com/vitseg/vitseg/kafkaconn"
)

// runResults follows the result and dead-letter topics, prints a summary and optionally draws a contact sheet.
func runResults(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("results", "results [--source-prefix P] [--expect N] [--contact-sheet FILE.png] [flags]", stderr)
	var topics eventTopicFlags
	topics.registerResults(fs)
	prefix := fs.String("source-prefix", "", "only count events whose source key starts with this")
	expect := fs.Int("expect", 0, "wait until this many results + dead letters arrived (0: read what is there)")
	timeout := fs.Duration("timeout", 5*time.Minute, "give up waiting after this long")
	sheet := fs.String("contact-sheet", "", "write a PNG grid of photos with their mask overlays")
	sheetMax := fs.Int("sheet-max", 24, "most photos on the contact sheet")
	var s3 objstore.Config
	s3.RegisterFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	dialer, err := topics.ksec.Dialer("vitseg-results", 10*time.Second)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()

	collected := results.NewCollector(*prefix)
	cluster := kafkaconn.Cluster{Brokers: envflag.List(topics.brokers), Dialer: dialer}
	if err := eventlog.Follow(ctx, cluster, topics.resultTopic, events.DecodeResult, collected.AddResult); err != nil {
		return err
	}
	if err := eventlog.Follow(ctx, cluster, topics.dlqTopic, events.DecodeDeadLetter, collected.AddDeadLetter); err != nil {
		return err
	}
	if err := collected.Wait(ctx, *expect, stderr); err != nil {
		return err
	}
	resultEvents, deadLetters := collected.Events()
	results.WriteSummary(stdout, resultEvents, deadLetters)
	if *sheet == "" || len(resultEvents) == 0 {
		return nil
	}
	client, err := objstore.New(s3)
	if err != nil {
		return err
	}
	if err := results.WriteContactSheet(ctx, client, resultEvents, *sheetMax, *sheet); err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "contact sheet: %s\n", *sheet)
	return err
}
