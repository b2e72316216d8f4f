package training_test

import (
	"flag"
	"testing"

	"github.com/vitseg/vitseg/training"
)

// TestDataConfigRegisterFlags: the flags are parsed into the configuration, and Validate refuses a missing or
// bad --data.
func TestDataConfigRegisterFlags(t *testing.T) {
	tests := []struct {
		args    []string
		want    training.DataConfig
		wantErr string
	}{
		{[]string{"--data", "pets"}, training.DataConfig{Data: "pets", ValFraction: 0.15, MinPairs: 20}, ""},
		{[]string{"--data", "s3://pets/train", "--val-fraction", "0.3", "--min-pairs", "10"},
			training.DataConfig{Data: "s3://pets/train", ValFraction: 0.3, MinPairs: 10}, ""},
		{nil, training.DataConfig{ValFraction: 0.15, MinPairs: 20}, "--data is required"},
		{[]string{"--data", "s3://A_B"}, training.DataConfig{Data: "s3://A_B", ValFraction: 0.15, MinPairs: 20},
			`--data: invalid s3 URL: "s3://A_B": Bucket name contains invalid characters`},
	}
	for _, tc := range tests {
		fs := flag.NewFlagSet("train", flag.ContinueOnError)
		var got training.DataConfig
		got.RegisterFlags(fs)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		gotErr := ""
		if err := got.Validate(); err != nil {
			gotErr = err.Error()
		}
		if got.Data != tc.want.Data || got.ValFraction != tc.want.ValFraction || got.MinPairs != tc.want.MinPairs || gotErr != tc.wantErr {
			t.Errorf("%v: %+v, %q; want %+v, %q", tc.args, got, gotErr, tc.want, tc.wantErr)
		}
	}
}
