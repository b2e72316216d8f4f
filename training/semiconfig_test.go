package training_test

import (
	"context"
	"flag"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/vitseg/vitseg/model/registry"
	"github.com/vitseg/vitseg/training"
)

// TestSemiConfigRegisterFlags: the flags are parsed into the configuration and its plan; Resolve makes a
// directory the source and reads a teacher file, and Validate refuses a bad s3:// location.
func TestSemiConfigRegisterFlags(t *testing.T) {
	tests := []struct {
		args     []string
		wantPlan training.SemiPlan
		wantErr  string // of Validate, else of Resolve
	}{
		{[]string{"--unlabeled", "photos"}, training.SemiPlan{Source: training.UnlabeledDir{Root: "photos"}, Max: 1000, Ratio: 1}, ""},
		{[]string{"--unlabeled", "photos", "--unlabeled-max", "5", "--pseudo-threshold", "0.8", "--pseudo-warmup-epochs", "2"},
			training.SemiPlan{Source: training.UnlabeledDir{Root: "photos"}, Max: 5, Threshold: 0.8, Ratio: 1, WarmupEpochs: 2}, ""},
		{[]string{"--unlabeled", "s3://A_B"}, training.SemiPlan{}, `--unlabeled: invalid s3 URL: "s3://A_B": Bucket name contains invalid characters`},
		{[]string{"--unlabeled", "photos", "--teacher", "/nonexistent.onnx"}, training.SemiPlan{},
			"--teacher: open /nonexistent.onnx: no such file or directory"},
	}
	noClient := func() (*minio.Client, error) { t.Fatal("S3 client opened"); return nil, nil }
	noRegistry := func() (*registry.Registry, error) { t.Fatal("registry opened"); return nil, nil }
	for _, tc := range tests {
		fs := flag.NewFlagSet("train", flag.ContinueOnError)
		var c training.SemiConfig
		c.RegisterFlags(fs)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		err := c.Validate()
		var plan training.SemiPlan
		if err == nil {
			plan, err = c.Resolve(context.Background(), noClient, noRegistry)
		}
		gotErr := ""
		if err != nil {
			gotErr = err.Error()
		}
		if gotErr != tc.wantErr {
			t.Errorf("%v: err %q, want %q", tc.args, gotErr, tc.wantErr)
		}
		if err == nil && (plan.Source != tc.wantPlan.Source || plan.Max != tc.wantPlan.Max || plan.Threshold != tc.wantPlan.Threshold ||
			plan.Ratio != tc.wantPlan.Ratio || plan.WarmupEpochs != tc.wantPlan.WarmupEpochs || plan.RefreshEpochs != tc.wantPlan.RefreshEpochs) {
			t.Errorf("%v: plan %+v, want %+v", tc.args, plan, tc.wantPlan)
		}
	}
}
