package dlq

import (
	"fmt"
	"io"

	"github.com/vitseg/vitseg/events"
)

// WriteSummary writes what `vitseg dlq list` prints: how many letters and objects, each class (Summarise) with
// its reasons and an example, and how many messages were skipped as not dead-letter events.
func WriteSummary(w io.Writer, letters []events.DeadLetterEvent, skipped int) {
	fmt.Fprintf(w, "dead letters: %d (%d objects)\n", len(letters), len(Latest(letters)))
	for _, c := range Summarise(letters) {
		fmt.Fprintf(w, "%s: %d\n", c.Class, c.Count)
		for _, r := range c.Reasons {
			example := ""
			if r.Example != "" {
				example = " (e.g. " + r.Example + ")"
			}
			fmt.Fprintf(w, "  %5d  %s%s\n", r.Count, r.Reason, example)
		}
	}
	if skipped > 0 {
		fmt.Fprintf(w, "skipped %d messages that are not dead-letter events\n", skipped)
	}
}

// WriteSteps writes every step of the plan, for a dry run: the letters skipped as processed, then those that
// would be replayed with their next attempt.
func (p Plan) WriteSteps(w io.Writer) {
	for _, e := range p.Processed {
		fmt.Fprintf(w, "skip %s: processed since it was dead-lettered\n", Subject(e))
	}
	for _, it := range p.Replay {
		fmt.Fprintf(w, "would replay %s (attempt %d): %s\n", Subject(it.Letter), Attempt(it.Letter)+1, it.Letter.Reason)
	}
}

// WriteRefused writes why each refused letter is not replayed, one a line.
func (p Plan) WriteRefused(w io.Writer) {
	for _, err := range p.Refused {
		fmt.Fprintln(w, "not replayed:", err)
	}
}

// Outcome is the last line of a replay to topic: how many of the selected letters are (with dryRun: would be)
// replayed, and how many were skipped as processed.
func (p Plan) Outcome(topic string, dryRun bool) string {
	skipped := ""
	if len(p.Processed) > 0 {
		skipped = fmt.Sprintf("; skipped %d objects processed since they were dead-lettered (--include-processed replays them)", len(p.Processed))
	}
	if dryRun {
		return fmt.Sprintf("dry run: %d of %d dead letters would be replayed to %s%s", len(p.Replay), p.Selected(), topic, skipped)
	}
	return fmt.Sprintf("replayed %d of %d dead letters to %s%s", len(p.Replay), p.Selected(), topic, skipped)
}
