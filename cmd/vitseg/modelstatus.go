package main

import (
	"context"
	"flag"
	"fmt"
	"io"
)

// reasonFlag registers --reason, the reason recorded with an operator's decision.
func reasonFlag(reason *string, def string) func(*flag.FlagSet) {
	return func(fs *flag.FlagSet) {
		fs.StringVar(reason, "reason", def, "reason recorded with the decision")
	}
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
	return st.WriteText(stdout)
}
