package model_test

import (
	"flag"
	"testing"

	"github.com/vitseg/vitseg/model"
)

// TestArchOptionsRegisterFlags: the preset and architecture flags are parsed and chosen into a validated Config;
// an unknown preset names --preset.
func TestArchOptionsRegisterFlags(t *testing.T) {
	tests := []struct {
		args    []string
		check   func(c model.Config) bool
		wantErr string
	}{
		{nil, func(c model.Config) bool { return c.EmbedSize == 256 && c.PatchSize == 16 && c.DropPath == 0 }, ""},
		{[]string{"--preset", "tiny", "--patch-size", "8", "--head-hidden", "64"}, func(c model.Config) bool {
			return c.EmbedSize == 32 && c.PatchSize == 8 && c.HeadHidden == 64
		}, ""},
		{[]string{"--stem", "conv", "--decoder", "unet", "--drop-path", "0.1"}, func(c model.Config) bool {
			return c.Stem == model.StemConv && c.Decoder == model.DecoderUNet && c.DropPath == 0.1
		}, ""},
		{[]string{"--preset", "huge"}, nil, `--preset: unknown model preset "huge" (known: article, segformer, small, tiny)`},
		{[]string{"--decoder", "unet"}, nil, `decoder "unet" needs stem "conv" (its skip connections are the stem's feature maps)`},
	}
	for _, tc := range tests {
		fs := flag.NewFlagSet("train", flag.ContinueOnError)
		var preset string
		var arch model.ArchOptions
		model.RegisterPresetFlag(fs, &preset, model.PresetSmall)
		arch.RegisterFlags(fs)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		c, err := model.Choose(preset, arch)
		switch {
		case tc.wantErr != "":
			if err == nil || err.Error() != tc.wantErr {
				t.Errorf("%v: err = %v, want %q", tc.args, err, tc.wantErr)
			}
		case err != nil || !tc.check(c):
			t.Errorf("%v: %+v, %v", tc.args, c, err)
		}
	}
}
