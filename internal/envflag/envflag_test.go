package envflag

import (
	"errors"
	"flag"
	"io"
	"strings"
	"testing"
	"time"
)

func TestVarName(t *testing.T) {
	tests := []struct {
		prefix, flag, want string
	}{
		{"VITSEG", "kafka-brokers", "VITSEG_KAFKA_BROKERS"},
		{"VITSEG_", "s3-secret-key", "VITSEG_S3_SECRET_KEY"},
		{"VITSEG", "s3-secret-key-file", "VITSEG_S3_SECRET_KEY_FILE"},
		{"VITSEG", "log.level", "VITSEG_LOG_LEVEL"},
		{"", "max-batch", "MAX_BATCH"},
	}
	for _, tt := range tests {
		if got := VarName(tt.prefix, tt.flag); got != tt.want {
			t.Errorf("VarName(%q, %q) = %q, want %q", tt.prefix, tt.flag, got, tt.want)
		}
	}
}

// testFlags is a flag set with one flag of each common kind.
type testFlags struct {
	fs      *flag.FlagSet
	brokers string
	batch   int
	tls     bool
	wait    time.Duration
}

func newTestFlags() *testFlags {
	f := &testFlags{fs: flag.NewFlagSet("test", flag.ContinueOnError)}
	f.fs.SetOutput(io.Discard)
	f.fs.StringVar(&f.brokers, "kafka-brokers", "localhost:9092", "")
	f.fs.IntVar(&f.batch, "max-batch", 8, "")
	f.fs.BoolVar(&f.tls, "s3-tls", false, "")
	f.fs.DurationVar(&f.wait, "max-wait", 20*time.Millisecond, "")
	return f
}

func TestApply(t *testing.T) {
	tests := []struct {
		name        string
		args        []string
		env         map[string]string
		wantBrokers string
		wantBatch   int
		wantTLS     bool
		wantWait    time.Duration
	}{
		{
			name:        "defaults without env",
			wantBrokers: "localhost:9092", wantBatch: 8, wantWait: 20 * time.Millisecond,
		},
		{
			name: "env fills unset flags",
			env: map[string]string{
				"VITSEG_KAFKA_BROKERS": "a:1,b:2", "VITSEG_MAX_BATCH": "16",
				"VITSEG_S3_TLS": "true", "VITSEG_MAX_WAIT": "1s",
			},
			wantBrokers: "a:1,b:2", wantBatch: 16, wantTLS: true, wantWait: time.Second,
		},
		{
			name:        "command line wins over env",
			args:        []string{"--kafka-brokers", "cli:9092", "--s3-tls=false"},
			env:         map[string]string{"VITSEG_KAFKA_BROKERS": "env:9092", "VITSEG_S3_TLS": "true"},
			wantBrokers: "cli:9092", wantBatch: 8, wantWait: 20 * time.Millisecond,
		},
		{
			name:        "empty env counts as unset",
			env:         map[string]string{"VITSEG_KAFKA_BROKERS": "", "VITSEG_S3_TLS": ""},
			wantBrokers: "localhost:9092", wantBatch: 8, wantWait: 20 * time.Millisecond,
		},
		{
			name:        "other prefixes are ignored",
			env:         map[string]string{"KAFKA_BROKERS": "x:1", "OTHER_MAX_BATCH": "3"},
			wantBrokers: "localhost:9092", wantBatch: 8, wantWait: 20 * time.Millisecond,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			f := newTestFlags()
			if err := f.fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			if err := Apply(f.fs, "VITSEG"); err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if f.brokers != tt.wantBrokers || f.batch != tt.wantBatch || f.tls != tt.wantTLS || f.wait != tt.wantWait {
				t.Errorf("got brokers=%q batch=%d tls=%v wait=%v, want %q %d %v %v",
					f.brokers, f.batch, f.tls, f.wait, tt.wantBrokers, tt.wantBatch, tt.wantTLS, tt.wantWait)
			}
		})
	}
}

func TestApplyMarksEnvFlagsAsSet(t *testing.T) {
	t.Setenv("VITSEG_MAX_BATCH", "4")
	f := newTestFlags()
	if err := f.fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	if err := Apply(f.fs, "VITSEG"); err != nil {
		t.Fatal(err)
	}
	var set []string
	f.fs.Visit(func(fl *flag.Flag) { set = append(set, fl.Name) })
	if len(set) != 1 || set[0] != "max-batch" {
		t.Errorf("flags set after Apply = %v, want [max-batch]", set)
	}
}

func TestApplyReportsBadValue(t *testing.T) {
	errBadMode := errors.New("bad mode")
	tests := []struct {
		name, env, value string
		wantIs           error
	}{
		{name: "int flag", env: "VITSEG_MAX_BATCH", value: "many"},
		{name: "func flag", env: "VITSEG_MODE", value: "sideways", wantIs: errBadMode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(tt.env, tt.value)
			f := newTestFlags()
			f.fs.Func("mode", "", func(string) error { return errBadMode })
			if err := f.fs.Parse(nil); err != nil {
				t.Fatal(err)
			}
			err := Apply(f.fs, "VITSEG")
			if err == nil {
				t.Fatalf("Apply succeeded with %s=%s", tt.env, tt.value)
			}
			if !strings.Contains(err.Error(), tt.env) {
				t.Errorf("error %q does not name %s", err, tt.env)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error %v does not wrap %v", err, tt.wantIs)
			}
		})
	}
}
