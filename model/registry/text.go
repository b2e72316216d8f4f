package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// Verdict says what a publish did with its version, as `vitseg models publish` and `vitseg train` print it.
func (res PublishResult) Verdict() string {
	switch {
	case res.Candidate:
		return "proposed as the candidate (serve evaluates it in shadow)"
	case res.Published:
		return "published (now current)"
	}
	return "rejected"
}

// Versions are the registry's versions and the current one: what `vitseg models list` shows.
type Versions struct {
	List    []VersionMetadata // oldest first
	Current string            // "" when there is no current version
}

// Versions returns the metadata of every version (List) and the current version.
func (r *Registry) Versions(ctx context.Context) (Versions, error) {
	list, err := r.List(ctx)
	if err != nil {
		return Versions{}, err
	}
	cur, err := r.Current(ctx)
	if err != nil && !errors.Is(err, ErrNoCurrent) {
		return Versions{}, err
	}
	return Versions{List: list, Current: cur.Version}, nil
}

// WriteText writes the versions as a table, one version a line, the current one marked with *.
func (v Versions) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tSTATUS\tCURRENT\tPIXEL_ACC\tMEAN_IOU\tSPLIT\tCREATED\tREASON")
	for _, m := range v.List {
		mark := ""
		if m.Version == v.Current {
			mark = "*"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.4f\t%.4f\t%s\t%s\t%s\n", m.Version, m.Status, mark,
			m.Metrics["pixel_accuracy"], m.Metrics["mean_iou"], m.EvalSplit, m.CreatedAt.Format(time.RFC3339), m.Reason)
	}
	return tw.Flush()
}

// WriteText writes the status as text: the current version, the candidate, the last decision and the shadow
// summary with the policy's decision and the rollback, where there are any.
func (st LifecycleStatus) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	orNone := func(s string) string {
		if s == "" {
			return "none"
		}
		return s
	}
	fmt.Fprintf(tw, "current:\t%s (previous %s)\n", orNone(st.Current.Version), orNone(st.Current.Previous))
	fmt.Fprintf(tw, "candidate:\t%s", orNone(st.Candidate.Version))
	if st.Candidate.Version != "" {
		fmt.Fprintf(tw, " (compared with %s since %s)", st.Candidate.Base, st.Candidate.UpdatedAt.Format(time.RFC3339))
	}
	fmt.Fprintln(tw)
	if d := st.Candidate.Last; d != nil {
		fmt.Fprintf(tw, "last decision:\t%s\n", d)
	}
	if s := st.Summary; s != nil {
		sh := s.Shadow
		fmt.Fprintf(tw, "shadow of %s:\t%d images, %d errors, %d dropped; pixel agreement %.4f, mean IoU %.4f, pet area diff %.4f\n",
			s.Version, sh.Images, sh.Errors, sh.Dropped, sh.Mean(sh.AgreementSum), sh.Mean(sh.MeanIoUSum), sh.Mean(sh.PetAreaDiffSum))
		fmt.Fprintf(tw, "p99 per image:\tcandidate %gs, current %s %gs\n", sh.Latency.Quantile(0.99), s.Base, s.Current.Latency.Quantile(0.99))
		if sh.Labeled.Images > 0 || s.Current.Labeled.Images > 0 {
			fmt.Fprintf(tw, "labeled accuracy:\tcandidate %.4f on %d photos, current %s %.4f on %d\n", sh.Labeled.Accuracy(),
				sh.Labeled.Images, s.Base, s.Current.Labeled.Accuracy(), s.Current.Labeled.Images)
		}
		if s.Decision != nil {
			fmt.Fprintf(tw, "policy decision:\t%s\n", s.Decision)
		}
		if s.Rollback != nil {
			fmt.Fprintf(tw, "rollback:\t%s\n", s.Rollback)
		}
	}
	return tw.Flush()
}

// String is the decision as one line: VERSION OUTCOME (automatic or operator, TIME): REASON.
func (d Decision) String() string {
	by := "operator"
	if d.Automatic {
		by = "automatic"
	}
	return fmt.Sprintf("%s %s (%s, %s): %s", d.Version, d.Outcome, by, d.At.Format(time.RFC3339), d.Reason)
}
