package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/vitseg/vitseg/model/registry"
)

// reasonFlag registers --reason, the reason recorded with an operator's decision.
func reasonFlag(reason *string, def string) func(*flag.FlagSet) {
	return func(fs *flag.FlagSet) {
		fs.StringVar(reason, "reason", def, "reason recorded with the decision")
	}
}

// publishVerdict says what a publish did with its version.
func publishVerdict(res registry.PublishResult) string {
	switch {
	case res.Candidate:
		return "proposed as the candidate (serve evaluates it in shadow)"
	case res.Published:
		return "published (now current)"
	}
	return "rejected"
}

func runModelsReject(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	reason := ""
	reg, _, fs, err := openRegistry("models reject", "models reject [flags] CANDIDATE", args, stderr, reasonFlag(&reason, "rejected by an operator"))
	if err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("usage: vitseg models reject CANDIDATE")
	}
	if err := reg.OperatorReject(ctx, fs.Arg(0), reason); err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "rejected candidate %s: %s\n", fs.Arg(0), reason)
	return err
}

func runModelsStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	reg, _, _, err := openRegistry("models status", "models status [flags]", args, stderr)
	if err != nil {
		return err
	}
	st, err := reg.Lifecycle(ctx)
	if err != nil {
		return err
	}
	return printLifecycle(stdout, st)
}

// printLifecycle prints a model's lifecycle status.
func printLifecycle(w io.Writer, st registry.LifecycleStatus) error {
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
		fmt.Fprintf(tw, "last decision:\t%s\n", decisionLine(*d))
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
			fmt.Fprintf(tw, "policy decision:\t%s\n", decisionLine(*s.Decision))
		}
		if s.Rollback != nil {
			fmt.Fprintf(tw, "rollback:\t%s\n", decisionLine(*s.Rollback))
		}
	}
	return tw.Flush()
}

func decisionLine(d registry.Decision) string {
	by := "operator"
	if d.Automatic {
		by = "automatic"
	}
	return fmt.Sprintf("%s %s (%s, %s): %s", d.Version, d.Outcome, by, d.At.Format(time.RFC3339), d.Reason)
}
