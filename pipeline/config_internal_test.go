package pipeline

import (
	"testing"

	"github.com/vitseg/vitseg/consumer"
	"github.com/vitseg/vitseg/events"
)

// TestOutputPrefixIsCleaned: the filter that skips the pipeline's own masks sees the prefix as MaskKey writes
// it, however the flag spells it.
func TestOutputPrefixIsCleaned(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "masks/"},
		{"masks/", "masks/"},
		{"masks", "masks/"},
		{"./masks/", "masks/"},
		{"/out//masks", "out/masks/"},
		{"/", ""},
	}
	for _, tc := range tests {
		if got := (Config{OutputPrefix: tc.in}).withDefaults().OutputPrefix; got != tc.want {
			t.Errorf("OutputPrefix %q -> %q, want %q", tc.in, got, tc.want)
		}
	}
	allow, err := consumer.ParseAllowList("pets")
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Allow: allow, OutputPrefix: "./masks"}.withDefaults()
	f, err := consumer.NewFilter(cfg.Allow, cfg.OutputBucket, cfg.OutputPrefix)
	if err != nil {
		t.Fatal(err)
	}
	own := events.MaskKey(cfg.OutputPrefix, "uploads/cat.jpg", "etag", "000001").Key
	if err := f.Check(consumer.ImageRef{Bucket: "pets", Key: own}); err == nil {
		t.Errorf("the pipeline's own mask %q passes the filter with --output-prefix ./masks", own)
	}
	if err := f.Check(consumer.ImageRef{Bucket: "pets", Key: "uploads/cat.jpg"}); err != nil {
		t.Errorf("a photo is filtered out: %v", err)
	}
}
