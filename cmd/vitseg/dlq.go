package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"regexp"
	"time"

	"github.com/vitseg/vitseg/events"
	"github.com/vitseg/vitseg/internal/envflag"
	"github.com/vitseg/vitseg/internal/ops/dlq"
	"github.com/vitseg/vitseg/internal/ops/eventlog"
	"github.com/vitseg/vitseg/kafkaconn"
)

// dlqCommands are the subcommands of "vitseg dlq".
func dlqCommands() []command {
	return []command{
		{name: "list", summary: "the dead letters by class and reason", run: runDLQList},
		{name: "replay", summary: "re-publish dead-lettered references to the input topic", run: runDLQReplay},
	}
}

// dlqFlags are the flags both dlq commands share.
type dlqFlags struct {
	eventTopicFlags
	since, class string
}

func (d *dlqFlags) register(fs *flag.FlagSet) {
	d.eventTopicFlags.register(fs)
	fs.StringVar(&d.since, "since", "", "only dead letters failed within this duration (24h) or since this RFC 3339 time")
	fs.StringVar(&d.class, "class", "", "only dead letters of this error class")
}

// filter returns the selection the flags make, with an optional --reason-match.
func (d *dlqFlags) filter(reasonMatch string, now time.Time) (dlq.Filter, error) {
	var f dlq.Filter
	var err error
	if f.Since, err = parseSince(d.since, now); err != nil {
		return f, err
	}
	if d.class != "" {
		f.Class = events.ErrorClass(d.class)
		if !f.Class.Valid() {
			return f, usagef("--class %q is not one of %v", d.class, events.ErrorClasses())
		}
	}
	if reasonMatch != "" {
		if f.Reason, err = regexp.Compile(reasonMatch); err != nil {
			return f, usagef("--reason-match: %v", err)
		}
	}
	return f, nil
}

// read returns the dead letters of the topic, in topic order; undecodable messages are counted in skipped.
func (d *dlqFlags) read(ctx context.Context) (letters []events.DeadLetterEvent, skipped int, err error) {
	return readValid(ctx, d, d.dlqTopic, events.DecodeDeadLetter)
}

// readResults returns the result events of the topic, in topic order, leaving out undecodable messages.
func (d *dlqFlags) readResults(ctx context.Context) ([]events.ResultEvent, error) {
	results, _, err := readValid(ctx, d, d.resultTopic, events.DecodeResult)
	return results, err
}

// readValid returns the events of topic that decode, in topic order, and how many messages did not.
func readValid[T any](ctx context.Context, d *dlqFlags, topic string, decode eventlog.Decoder[T]) ([]T, int, error) {
	dialer, err := d.ksec.Dialer("vitseg-dlq", 10*time.Second)
	if err != nil {
		return nil, 0, err
	}
	return eventlog.Read(ctx, kafkaconn.Cluster{Brokers: envflag.List(d.brokers), Dialer: dialer}, topic, decode)
}

// parseSince reads --since: empty (everything), a duration back from now, or an RFC 3339 time.
func parseSince(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		return now.Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, usagef("--since %q is neither a duration (24h) nor an RFC 3339 time", s)
	}
	return t, nil
}

func runDLQList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("dlq list", "dlq list [--since D] [--class C] [flags]", stderr)
	var d dlqFlags
	d.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	f, err := d.filter("", time.Now())
	if err != nil {
		return err
	}
	all, skipped, err := d.read(ctx)
	if err != nil {
		return err
	}
	dlq.WriteSummary(stdout, f.Select(all), skipped)
	return nil
}

func runDLQReplay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("dlq replay", "dlq replay --class C [--reason-match RE] [--since D] [--dry-run] [flags]", stderr)
	var d dlqFlags
	d.register(fs)
	d.registerResultTopic(fs) // an object whose latest outcome is a result is not replayed
	var inputTopic string
	registerInputTopic(fs, &inputTopic, "topic the references are re-published to")
	reasonMatch := fs.String("reason-match", "", "only dead letters whose reason matches this regular expression")
	dryRun := fs.Bool("dry-run", false, "print what would be replayed, publish nothing")
	includeProcessed := fs.Bool("include-processed", false, "also replay objects whose latest outcome is a result (processed since they were dead-lettered)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if d.class == "" {
		return usagef("dlq replay: --class is required")
	}
	f, err := d.filter(*reasonMatch, time.Now())
	if err != nil {
		return err
	}
	all, _, err := d.read(ctx)
	if err != nil {
		return err
	}
	var results []events.ResultEvent // none read: nothing is skipped as processed
	if !*includeProcessed {
		if results, err = d.readResults(ctx); err != nil {
			return err
		}
	}
	plan := dlq.PlanReplay(all, results, f)
	return d.replay(ctx, plan, inputTopic, *dryRun, stdout, stderr)
}

// replay prints the plan (every step with --dry-run) and publishes it unless dryRun.
func (d *dlqFlags) replay(ctx context.Context, plan dlq.Plan, topic string, dryRun bool, stdout, stderr io.Writer) error {
	if dryRun {
		plan.WriteSteps(stdout)
	}
	plan.WriteRefused(stderr)
	if !dryRun {
		transport, err := d.ksec.Transport("vitseg-dlq", 10*time.Second)
		if err != nil {
			return err
		}
		defer transport.CloseIdleConnections()
		if err := dlq.Publish(ctx, transport, envflag.List(d.brokers), topic, plan.Messages()); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintln(stdout, plan.Outcome(topic, dryRun))
	return err
}
