package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"time"

	"github.com/segmentio/kafka-go"

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

// selectLetters returns the letters f matches.
func selectLetters(letters []events.DeadLetterEvent, f dlq.Filter) []events.DeadLetterEvent {
	var out []events.DeadLetterEvent
	for _, e := range letters {
		if f.Match(e) {
			out = append(out, e)
		}
	}
	return out
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
	letters := selectLetters(all, f)
	fmt.Fprintf(stdout, "dead letters: %d (%d objects)\n", len(letters), len(dlq.Latest(letters)))
	for _, c := range dlq.Summarise(letters) {
		fmt.Fprintf(stdout, "%s: %d\n", c.Class, c.Count)
		for _, r := range c.Reasons {
			example := ""
			if r.Example != "" {
				example = " (e.g. " + r.Example + ")"
			}
			fmt.Fprintf(stdout, "  %5d  %s%s\n", r.Count, r.Reason, example)
		}
	}
	if skipped > 0 {
		fmt.Fprintf(stdout, "skipped %d messages that are not dead-letter events\n", skipped)
	}
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
	// The latest letter of each object decides: one that failed again, or ran out of attempts, since an
	// earlier letter of the selection is not replayed from that earlier letter.
	letters := selectLetters(dlq.Latest(all), f)
	var processed []events.DeadLetterEvent
	if !*includeProcessed {
		results, err := d.readResults(ctx)
		if err != nil {
			return err
		}
		letters, processed = dlq.SkipProcessed(letters, results)
	}
	if *dryRun {
		for _, e := range processed {
			fmt.Fprintf(stdout, "skip %s: processed since it was dead-lettered\n", replaySubject(e))
		}
	}
	skippedNote := ""
	if len(processed) > 0 {
		skippedNote = fmt.Sprintf("; skipped %d objects processed since they were dead-lettered (--include-processed replays them)", len(processed))
	}
	var msgs []kafka.Message
	var refused []string
	for _, e := range letters {
		m, err := dlq.Replay(e)
		if err != nil {
			refused = append(refused, err.Error())
			continue
		}
		if *dryRun {
			fmt.Fprintf(stdout, "would replay %s (attempt %d): %s\n", replaySubject(e), dlq.Attempt(e)+1, e.Reason)
		}
		msgs = append(msgs, m)
	}
	for _, r := range refused {
		fmt.Fprintln(stderr, "not replayed:", r)
	}
	if *dryRun {
		_, err := fmt.Fprintf(stdout, "dry run: %d of %d dead letters would be replayed to %s%s\n", len(msgs), len(letters)+len(processed), inputTopic, skippedNote)
		return err
	}
	if err := d.publish(ctx, inputTopic, msgs); err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "replayed %d of %d dead letters to %s%s\n", len(msgs), len(letters)+len(processed), inputTopic, skippedNote)
	return err
}

// replaySubject names what a replay re-publishes.
func replaySubject(e events.DeadLetterEvent) string {
	if e.Source != nil {
		return e.Source.Bucket + "/" + e.Source.Key
	}
	return "message " + e.EventID
}

// publish writes msgs to topic and waits for every acknowledgement.
func (d *dlqFlags) publish(ctx context.Context, topic string, msgs []kafka.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	transport, err := d.ksec.Transport("vitseg-dlq", 10*time.Second)
	if err != nil {
		return err
	}
	defer transport.CloseIdleConnections()
	w := &kafka.Writer{Addr: kafka.TCP(envflag.List(d.brokers)...), Topic: topic, Balancer: &kafka.Hash{},
		RequiredAcks: kafka.RequireAll, BatchTimeout: 5 * time.Millisecond, Transport: transport}
	err = w.WriteMessages(ctx, msgs...)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		var werrs kafka.WriteErrors
		if errors.As(err, &werrs) {
			return fmt.Errorf("replay: %d of %d messages not written: %w", werrs.Count(), len(msgs), err)
		}
		return fmt.Errorf("replay: %w", err)
	}
	return nil
}
