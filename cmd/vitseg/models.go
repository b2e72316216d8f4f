package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"go.uber.org/zap"

	"github.com/vitseg/vitseg/internal/objstore"
	"github.com/vitseg/vitseg/model/registry"
)

// registryFlags locate the model registry.
type registryFlags struct {
	bucket    string
	name      string
	metric    string
	tolerance float64
	force     bool
}

// registerLocation adds --registry-bucket (with the command's usage) and --model-name.
func (r *registryFlags) registerLocation(fs *flag.FlagSet, bucketUsage string) {
	fs.StringVar(&r.bucket, "registry-bucket", "", bucketUsage)
	fs.StringVar(&r.name, "model-name", "vitseg", "model name (in the registry and in the model's metadata)")
}

// register adds the location and the quality gate flags of publishing.
func (r *registryFlags) register(fs *flag.FlagSet) {
	r.registerLocation(fs, "bucket of the model registry (models/NAME/...); empty: do not publish")
	fs.StringVar(&r.metric, "gate-metric", registry.DefaultGateMetric, "quality gate metric (higher is better)")
	fs.Float64Var(&r.tolerance, "gate-tolerance", 0.002, "publish when the new metric >= current - tolerance")
	fs.BoolVar(&r.force, "force", false, "publish even if the quality gate refuses")
}

// gate is the quality gate the flags configure.
func (r *registryFlags) gate() registry.Gate {
	return registry.Gate{Metric: r.metric, Tolerance: r.tolerance}
}

func (r *registryFlags) open(s3 objstore.Config, log *zap.Logger) (*registry.Registry, error) {
	if r.bucket == "" {
		return nil, usagef("--registry-bucket is required")
	}
	client, err := objstore.New(s3)
	if err != nil {
		return nil, err
	}
	return registry.New(client, r.bucket, r.name, registry.WithLogger(log)), nil
}

// modelsCommands are the subcommands of "vitseg models".
func modelsCommands() []command {
	return []command{
		{name: "list", summary: "the versions, their gate verdicts and the current one", run: runModelsList},
		{name: "publish", summary: "publish FILE.onnx through the quality gate (--candidate: as the candidate)", run: runModelsPublish},
		{name: "status", summary: "the current version, the candidate, its shadow summary and the last decision", run: runModelsStatus},
		{name: "promote", summary: "make VERSION (the candidate or any other) current", run: runModelsPromote},
		{name: "reject", summary: "reject the candidate VERSION", run: runModelsReject},
		{name: "rollback", summary: "make the previous current version current again", run: runModelsRollback},
	}
}

// openRegistry parses the flags of a models command (usage names its arguments; extra registers the
// command's own flags) and opens the registry.
func openRegistry(name, usage string, args []string, stderr io.Writer, extra ...func(*flag.FlagSet)) (*registry.Registry, registryFlags, *flag.FlagSet, error) {
	fs := newFlagSet(name, usage, stderr)
	var rf registryFlags
	var s3 objstore.Config
	var lf logFlags
	rf.register(fs)
	for _, f := range extra {
		f(fs)
	}
	s3.RegisterFlags(fs)
	lf.register(fs, "console")
	if err := parseFlags(fs, args); err != nil {
		return nil, rf, fs, err
	}
	log, err := lf.logger(stderr)
	if err != nil {
		return nil, rf, fs, err
	}
	reg, err := rf.open(s3, log)
	return reg, rf, fs, err
}

func runModelsList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	reg, _, _, err := openRegistry("models list", "models list [flags]", args, stderr)
	if err != nil {
		return err
	}
	versions, err := reg.Versions(ctx)
	if err != nil {
		return err
	}
	return versions.WriteText(stdout)
}

func runModelsPublish(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	candidate := false
	reg, rf, fs, err := openRegistry("models publish", "models publish [flags] FILE.onnx", args, stderr, func(fs *flag.FlagSet) {
		fs.BoolVar(&candidate, "candidate", false, "propose a version that passes the gate as the candidate for serve's shadow evaluation instead of making it current")
	})
	if err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("usage: vitseg models publish FILE.onnx")
	}
	return publishFile(ctx, reg, registry.PublishOptions{Gate: rf.gate(), Force: rf.force, Candidate: candidate}, fs.Arg(0), stdout)
}

func runModelsPromote(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	reason := ""
	reg, _, fs, err := openRegistry("models promote", "models promote [flags] VERSION", args, stderr, reasonFlag(&reason, "promoted by an operator"))
	if err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("usage: vitseg models promote VERSION")
	}
	p, err := reg.OperatorPromote(ctx, fs.Arg(0), reason)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "current version: %s (previous %s)\n", p.Version, p.Previous)
	return err
}

func runModelsRollback(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	reg, _, _, err := openRegistry("models rollback", "models rollback [flags]", args, stderr)
	if err != nil {
		return err
	}
	p, err := reg.Rollback(ctx)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "rolled back: current version %s\n", p.Version)
	return err
}

// publishFile imports an exported model file into the registry through the quality gate, with the metrics
// stored in the file. Its evaluation split is unknown to the registry, so against an existing current version
// the gate refuses it unless --force.
func publishFile(ctx context.Context, reg *registry.Registry, opts registry.PublishOptions, path string, stdout io.Writer) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read model: %w", err)
	}
	res, err := reg.PublishONNX(ctx, b, opts)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	_, err = fmt.Fprintf(stdout, "version %s %s: %s\n", res.Version, res.Verdict(), res.Reason)
	return err
}
