package training_test

import (
	"flag"
	"io"
	"reflect"
	"testing"

	"github.com/vitseg/vitseg/training"
)

// TestRecipeRegisterFlags: the flags are parsed into the recipe, with DefaultRecipe (and the step schedule) where
// they are not given.
func TestRecipeRegisterFlags(t *testing.T) {
	def := training.DefaultRecipe()
	def.Schedule = training.ScheduleStep
	tests := []struct {
		args    []string
		modify  func(r *training.Recipe)
		wantErr bool
	}{
		{nil, func(*training.Recipe) {}, false},
		{[]string{"--epochs", "3", "--lr", "1e-3", "--hflip=false", "--seed", "7"}, func(r *training.Recipe) {
			r.Epochs, r.LearningRate, r.Augmentation.HFlip, r.Seed = 3, 1e-3, false, 7
		}, false},
		{[]string{"--schedule", "cosine", "--rotate", "10", "--class-weights", "1,1,2"}, func(r *training.Recipe) {
			r.Schedule, r.Augmentation.Rotate, r.ClassWeights = training.ScheduleCosine, 10, []float64{1, 1, 2}
		}, false},
		{[]string{"--class-weights", "1,x"}, func(*training.Recipe) {}, true},
	}
	for _, tc := range tests {
		fs := flag.NewFlagSet("train", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		var got training.Recipe
		got.RegisterFlags(fs)
		err := fs.Parse(tc.args)
		if (err != nil) != tc.wantErr {
			t.Fatalf("%v: err = %v, want error %v", tc.args, err, tc.wantErr)
		}
		if err != nil {
			continue
		}
		want := def
		tc.modify(&want)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%v: recipe %+v, want %+v", tc.args, got, want)
		}
	}
}
