package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/minio/minio-go/v7"
	"golang.org/x/image/draw"

	"github.com/vitseg/vitseg/events"
	"github.com/vitseg/vitseg/internal/atomicfile"
	"github.com/vitseg/vitseg/internal/envflag"
	"github.com/vitseg/vitseg/internal/objstore"
	"github.com/vitseg/vitseg/internal/ops/eventlog"
	"github.com/vitseg/vitseg/kafkaconn"
	"github.com/vitseg/vitseg/model/imaging"
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

	collected := &eventCollector{prefix: *prefix}
	cluster := kafkaconn.Cluster{Brokers: envflag.List(topics.brokers), Dialer: dialer}
	if err := eventlog.Follow(ctx, cluster, topics.resultTopic, events.DecodeResult, collected.addResult); err != nil {
		return err
	}
	if err := eventlog.Follow(ctx, cluster, topics.dlqTopic, events.DecodeDeadLetter, collected.addDeadLetter); err != nil {
		return err
	}
	if err := waitForEvents(ctx, collected.count, *expect, newProgress(stderr, "results")); err != nil {
		return err
	}
	collected.mu.Lock()
	defer collected.mu.Unlock()
	printSummary(stdout, collected.results, collected.deadLetters)
	if *sheet == "" || len(collected.results) == 0 {
		return nil
	}
	client, err := objstore.New(s3)
	if err != nil {
		return err
	}
	if err := writeContactSheet(ctx, client, collected.results, *sheetMax, *sheet); err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "contact sheet: %s\n", *sheet)
	return err
}

// waitForEvents waits until count reaches expect or, with expect 0, until count has not changed for 2 s; it
// fails when ctx ends first. With expect > 0 the count is shown on bar.
func waitForEvents(ctx context.Context, count func() int, expect int, bar *progress) error {
	start := time.Now()
	last, lastChange := -1, time.Now()
	for {
		n := count()
		if n != last {
			last, lastChange = n, time.Now()
			if expect > 0 {
				bar.update(n, expect)
			}
		}
		done := (expect > 0 && n >= expect) || (expect == 0 && time.Since(lastChange) > 2*time.Second)
		if done {
			break
		}
		if ctx.Err() != nil {
			bar.done()
			return fmt.Errorf("timed out after %s with %d of %d events", time.Since(start).Round(time.Second), n, expect)
		}
		time.Sleep(200 * time.Millisecond)
	}
	bar.done()
	return nil
}

func printSummary(w io.Writer, results []events.ResultEvent, dl []events.DeadLetterEvent) {
	fmt.Fprintf(w, "results: %d images segmented, %d dead-lettered\n", len(results), len(dl))
	if len(results) > 0 {
		versions := map[string]int{}
		var totals []float64
		var pet float64
		for _, r := range results {
			versions[r.Model.Name+" "+r.Model.Version]++
			totals = append(totals, r.TimingsMS.Total)
			pet += r.ClassFractions.Pet
		}
		sort.Float64s(totals)
		q := func(p float64) float64 { return totals[min(len(totals)-1, int(p*float64(len(totals))))] }
		fmt.Fprintf(w, "models: %v\n", versions)
		fmt.Fprintf(w, "mean pet area: %.1f%%\n", 100*pet/float64(len(results)))
		fmt.Fprintf(w, "latency (fetch to event) p50 %.0f ms, p99 %.0f ms, max %.0f ms\n", q(0.5), q(0.99), totals[len(totals)-1])
	}
	classes := map[events.ErrorClass][]string{}
	for _, d := range dl {
		key := ""
		if d.Source != nil {
			key = d.Source.Key
		}
		classes[d.ErrorClass] = append(classes[d.ErrorClass], key)
	}
	for c, keys := range classes {
		sort.Strings(keys)
		fmt.Fprintf(w, "dead letters %s: %d (e.g. %s)\n", c, len(keys), keys[0])
	}
}

// writeContactSheet draws up to max photos with their mask overlays in a grid of 160 px thumbnails.
func writeContactSheet(ctx context.Context, client *minio.Client, results []events.ResultEvent, maxN int, path string) error {
	sort.Slice(results, func(i, j int) bool { return results[i].Source.Key < results[j].Source.Key })
	results = results[:min(maxN, len(results))]
	const cell, cols = 160, 6
	rows := (len(results) + cols - 1) / cols
	sheet := image.NewRGBA(image.Rect(0, 0, cols*cell, rows*cell))
	get := func(bucket, key string) ([]byte, error) {
		o, err := objstore.Get(ctx, client, bucket, key, imaging.DefaultLimits().MaxBytes)
		return o.Data, err
	}
	for i, r := range results {
		photoBytes, err := get(r.Source.Bucket, r.Source.Key)
		if err != nil {
			return fmt.Errorf("contact sheet: %w", err)
		}
		maskBytes, err := get(r.Mask.Bucket, r.Mask.Key)
		if err != nil {
			return fmt.Errorf("contact sheet: %w", err)
		}
		photo, err := imaging.Decode(bytes.NewReader(photoBytes), imaging.DefaultLimits())
		if err != nil {
			return fmt.Errorf("contact sheet: %s: %w", r.Source.Key, err)
		}
		mask, err := imaging.DecodeMaskPNG(bytes.NewReader(maskBytes))
		if err != nil {
			return fmt.Errorf("contact sheet: %s: %w", r.Mask.Key, err)
		}
		overlay := imaging.Overlay(photo.Image, mask, 0.45)
		x, y := (i%cols)*cell, (i/cols)*cell
		draw.ApproxBiLinear.Scale(sheet, image.Rect(x, y, x+cell, y+cell), overlay, overlay.Bounds(), draw.Src, nil)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, sheet); err != nil {
		return err
	}
	return atomicfile.WriteBytes(path, buf.Bytes(), 0o644)
}
