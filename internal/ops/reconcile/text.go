package reconcile

import (
	"fmt"
	"io"
)

// WriteText prints the counts, then one line per object that is not simply processed and per missing mask.
func (r Report) WriteText(w io.Writer) error {
	c := r.Counts
	fmt.Fprintf(w, "reconcile %s/%s: %d objects: %d processed, %d duplicated, %d dead-lettered, %d missing; %d results with a missing mask\n",
		r.Bucket, r.Prefix, len(r.Objects), c[StatusProcessed], c[StatusDuplicated], c[StatusDeadLettered], c[StatusMissing],
		len(r.MissingMasks))
	for _, e := range r.Objects {
		switch e.Status {
		case StatusProcessed:
		case StatusDuplicated:
			fmt.Fprintf(w, "duplicated     %s/%s: %d results\n", r.Bucket, e.Key, e.Results)
		case StatusDeadLettered:
			fmt.Fprintf(w, "dead-lettered  %s/%s: %s: %s\n", r.Bucket, e.Key, e.Class, e.Detail)
		default:
			fmt.Fprintf(w, "MISSING        %s/%s: %s\n", r.Bucket, e.Key, e.Detail)
		}
	}
	for _, m := range r.MissingMasks {
		fmt.Fprintf(w, "MASK MISSING   %s/%s (result %s of %s)\n", m.Mask.Bucket, m.Mask.Key, m.EventID, m.Source)
	}
	verdict := "complete: every object has a result or a dead letter, every mask exists"
	if !r.Complete() {
		verdict = "INCOMPLETE: something is missing"
	}
	_, err := fmt.Fprintln(w, verdict)
	return err
}
