package imaging_test

import (
	"flag"
	"io"
	"testing"

	"github.com/vitseg/vitseg/model/imaging"
)

// TestDecodeOptionsRegisterFlags: the flags are parsed into the options; --exif-orientation is the negation of
// IgnoreOrientation and takes boolean values only.
func TestDecodeOptionsRegisterFlags(t *testing.T) {
	def := imaging.DefaultLimits()
	tests := []struct {
		args    []string
		want    imaging.DecodeOptions
		wantErr bool
	}{
		{nil, imaging.DecodeOptions{Limits: def}, false},
		{[]string{"--max-image-bytes", "1024", "--max-pixels", "99"}, imaging.DecodeOptions{Limits: imaging.Limits{MaxBytes: 1024, MaxPixels: 99}}, false},
		{[]string{"--exif-orientation=false"}, imaging.DecodeOptions{Limits: def, IgnoreOrientation: true}, false},
		{[]string{"--exif-orientation"}, imaging.DecodeOptions{Limits: def}, false},
		{[]string{"--exif-orientation=maybe"}, imaging.DecodeOptions{Limits: def}, true},
	}
	for _, tc := range tests {
		fs := flag.NewFlagSet("segment", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		opts := imaging.DecodeOptions{IgnoreOrientation: true}
		opts.RegisterFlags(fs, "files")
		err := fs.Parse(tc.args)
		if (err != nil) != tc.wantErr || opts != tc.want {
			t.Errorf("%v: %+v, %v; want %+v (error %v)", tc.args, opts, err, tc.want, tc.wantErr)
		}
	}
}
