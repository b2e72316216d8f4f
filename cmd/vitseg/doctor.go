package main

import (
	"context"
	"fmt"
	"io"

	"github.com/vitseg/vitseg/internal/ops/doctor"
)

func runDoctor(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("doctor", "doctor [--ort-lib FILE]", stderr)
	var rt runtimeFlags
	var lf logFlags
	rt.register(fs)
	lf.register(fs, "console")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	log, err := lf.logger(stderr)
	if err != nil {
		return err
	}
	runtime, err := rt.open()
	if err != nil {
		fmt.Fprintf(stdout, "ONNX Runtime: %v\n", err)
		return fmt.Errorf("%w: %w", doctor.ErrCUDAWouldFail, err)
	}
	return doctor.Run(stdout, runtime, log)
}
