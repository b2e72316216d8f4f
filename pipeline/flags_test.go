package pipeline_test

import (
	"flag"
	"testing"
	"time"

	"github.com/vitseg/vitseg/pipeline"
)

// TestConfigRegisterFlags: serve's flags are parsed into the pipeline's configuration, with the defaults of
// DefaultConfig and DefaultLifecycle where they are not given (decode workers 0: sized from the CPU count; shadow
// fraction 0.1).
func TestConfigRegisterFlags(t *testing.T) {
	tests := []struct {
		args  []string
		field func(c pipeline.Config) any
		want  any
	}{
		{nil, func(c pipeline.Config) any { return c.MaxBatch }, pipeline.DefaultConfig().MaxBatch},
		{nil, func(c pipeline.Config) any { return c.DecodeWorkers }, 0},
		{nil, func(c pipeline.Config) any { return c.Lifecycle.ShadowFraction }, 0.1},
		{nil, func(c pipeline.Config) any { return c.Lifecycle.Policy }, pipeline.DefaultLifecycle().Policy},
		{[]string{"--allow", "pets/uploads,dogs"}, func(c pipeline.Config) any { return c.Allow.String() }, "pets/uploads,dogs"},
		{[]string{"--max-wait", "5ms", "--latency-target", "1s"}, func(c pipeline.Config) any { return c.MaxWait + c.LatencyTarget }, time.Second + 5*time.Millisecond},
		{[]string{"--max-pixels", "100", "--exif-orientation=false"}, func(c pipeline.Config) any { return c.Limits.MaxPixels > 0 && c.IgnoreOrientation }, true},
		{[]string{"--rollback-min-labeled", "5"}, func(c pipeline.Config) any { return c.Lifecycle.Rollback.MinLabeled }, int64(5)},
		{[]string{"--labels-prefix", "pets/labeled"}, func(c pipeline.Config) any { return c.Lifecycle.LabelsPrefix }, "pets/labeled"},
	}
	for _, tc := range tests {
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		var c pipeline.Config
		c.RegisterFlags(fs)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if got := tc.field(c); got != tc.want {
			t.Errorf("%v: got %v, want %v", tc.args, got, tc.want)
		}
	}
}

// TestLifecycleConfigValidate: values the policies cannot use are refused, naming the flag.
func TestLifecycleConfigValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(c *pipeline.LifecycleConfig)
		want   string
	}{
		{"defaults", func(*pipeline.LifecycleConfig) {}, ""},
		{"fraction", func(c *pipeline.LifecycleConfig) { c.ShadowFraction = 1.5 }, "--shadow-fraction must be between 0 and 1, got 1.5"},
		{"min images", func(c *pipeline.LifecycleConfig) { c.Rollback.MinImages = 0 }, "--shadow-min-images and --rollback-min-images must be at least 1"},
		{"labels without shadow", func(c *pipeline.LifecycleConfig) { c.LabelsPrefix = "pets" }, "--labels-prefix needs the model lifecycle: a --shadow-fraction above 0"},
	}
	for _, tc := range tests {
		c := pipeline.DefaultLifecycle()
		tc.modify(&c)
		got := ""
		if err := c.Validate(); err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("%s: Validate() = %q, want %q", tc.name, got, tc.want)
		}
	}
}
