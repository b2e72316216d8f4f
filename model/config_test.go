package model

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestPresetParams(t *testing.T) {
	tests := []struct {
		preset string
		params int
	}{
		{PresetArticle, 86_284_806},
		{PresetSmall, 5_149_190},
	}
	for _, tc := range tests {
		cfg, err := Preset(tc.preset)
		if err != nil {
			t.Fatal(err)
		}
		if err := cfg.Validate(); err != nil {
			t.Errorf("%s: %v", tc.preset, err)
		}
		if got := cfg.NumParams(); got != tc.params {
			t.Errorf("%s: %d parameters, want %d", tc.preset, got, tc.params)
		}
	}
	if gf := must(Preset(PresetArticle)).FLOPsPerImage() / 1e9; gf < 11.1 || gf > 11.3 {
		t.Errorf("article forward pass %.2f GFLOP, want ~11.2", gf)
	}
	if _, err := Preset("huge"); err == nil || !strings.Contains(err.Error(), "article") {
		t.Errorf("unknown preset error %v should list the known ones", err)
	}
}

func must(c Config, err error) Config {
	if err != nil {
		panic(err)
	}
	return c
}

func TestValidate(t *testing.T) {
	base := must(Preset(PresetSmall))
	tests := []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"image not divisible by patch", func(c *Config) { c.ImageSize = 100 }, "not divisible by patch_size"},
		{"embed not divisible by heads", func(c *Config) { c.Heads = 7 }, "not divisible by heads"},
		{"zero blocks", func(c *Config) { c.Blocks = 0 }, "blocks must be positive"},
		{"dropout 1", func(c *Config) { c.Dropout = 1 }, "dropout"},
		{"too many classes", func(c *Config) { c.Classes = 300 }, "at most 256"},
		{"negative MLP head", func(c *Config) { c.HeadHidden = -1 }, "head_hidden"},
		{"drop path 1", func(c *Config) { c.DropPath = 1 }, "drop_path"},
		{"unknown stem", func(c *Config) { c.Stem = "resnet" }, `unknown stem "resnet"`},
		{"conv stem, patch not a power of two", func(c *Config) { c.Stem, c.ImageSize, c.PatchSize = StemConv, 120, 12 }, "power-of-two patch_size"},
		{"conv stem, embed not divisible", func(c *Config) { c.Stem, c.EmbedSize, c.Heads = StemConv, 260, 4 }, "divisible by patch_size/2 = 8"},
		{"segformer with a ViT option", func(c *Config) { *c = segformerPreset(); c.Stem = StemConv }, "ViT options"},
		{"segformer with a decoder", func(c *Config) { *c = segformerPreset(); c.Decoder = DecoderUNet }, "ViT options"},
		{"unknown decoder", func(c *Config) { c.Decoder = "fpn" }, `unknown decoder "fpn"`},
		{"unet decoder without conv stem", func(c *Config) { c.Decoder = DecoderUNet }, `needs stem "conv"`},
		{"unet decoder with MLP head", func(c *Config) { c.Stem, c.Decoder, c.HeadHidden = StemConv, DecoderUNet, 64 }, "head_hidden must be 0"},
		{"unet decoder, patch 2", func(c *Config) { c.Stem, c.Decoder, c.PatchSize = StemConv, DecoderUNet, 2 }, "patch_size of at least 4"},
		{"several problems at once", func(c *Config) { c.PatchSize, c.Heads = 0, -1 }, "heads must be positive"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := base
			tc.change(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate() = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestMetadataRoundTrip(t *testing.T) {
	m := Metadata{Name: "vitseg", Version: "000003", Config: must(Preset(PresetTiny)), ClassNames: ClassNames(),
		Metrics: map[string]float64{"pixel_accuracy": 0.8}}
	s, err := MarshalMetadata(m)
	if err != nil {
		t.Fatal(err)
	}
	got, err := UnmarshalMetadata(s)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != m.Version || got.Config != m.Config || got.Metrics["pixel_accuracy"] != 0.8 {
		t.Errorf("round trip = %+v", got)
	}
	if _, err := UnmarshalMetadata(`{"config": {"image_size": 0}}`); err == nil {
		t.Error("metadata with an invalid config accepted")
	}
}

func TestReadWriteMetadataInONNX(t *testing.T) {
	if _, err := ReadMetadata(nil); !errors.Is(err, ErrNotVitseg) {
		t.Errorf("ReadMetadata of a model without metadata: %v, want ErrNotVitseg", err)
	}
	m := Metadata{Name: "vitseg", Version: "1", Config: must(Preset(PresetSmall))}
	b, err := WriteMetadata(nil, m)
	if err != nil {
		t.Fatal(err)
	}
	m.Version = "2"
	if b, err = WriteMetadata(b, m); err != nil {
		t.Fatal(err)
	}
	got, err := ReadMetadata(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != "2" || got.Config != m.Config {
		t.Errorf("read back %+v", got)
	}
}

func TestStemChannels(t *testing.T) {
	small := must(Preset(PresetSmall))
	conv16, conv8 := small, small
	conv16.Stem = StemConv
	conv8.Stem, conv8.PatchSize = StemConv, 8
	tests := []struct {
		name string
		cfg  Config
		want []int
	}{
		{"linear stem", small, nil},
		{"conv stem, patch 16", conv16, []int{32, 64, 128, 256}},
		{"conv stem, patch 8", conv8, []int{64, 128, 256}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.cfg.StemChannels(); !slices.Equal(got, tc.want) {
				t.Errorf("StemChannels() = %v, want %v", got, tc.want)
			}
			if err := tc.cfg.Validate(); err != nil {
				t.Error(err)
			}
		})
	}
}
