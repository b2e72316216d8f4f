package imaging

import (
	"errors"
	"flag"
	"strconv"
)

// RegisterFlags registers --max-image-bytes and --max-pixels on fs, bound to l, with DefaultLimits as their
// defaults; what names the inputs in the usage ("files", "objects").
func (l *Limits) RegisterFlags(fs *flag.FlagSet, what string) {
	def := DefaultLimits()
	fs.Int64Var(&l.MaxBytes, "max-image-bytes", def.MaxBytes, "refuse "+what+" larger than this")
	fs.Int64Var(&l.MaxPixels, "max-pixels", def.MaxPixels, "refuse images declaring more pixels")
}

// RegisterFlags registers the limits' flags (Limits.RegisterFlags) and --exif-orientation (RegisterOrientationFlag)
// on fs, bound to o.
func (o *DecodeOptions) RegisterFlags(fs *flag.FlagSet, what string) {
	o.Limits.RegisterFlags(fs, what)
	RegisterOrientationFlag(fs, &o.IgnoreOrientation)
}

// RegisterOrientationFlag registers --exif-orientation on fs (default true: apply each photo's EXIF orientation),
// the negation of *ignore (DecodeOptions.IgnoreOrientation), which it sets to false.
func RegisterOrientationFlag(fs *flag.FlagSet, ignore *bool) {
	*ignore = false
	fs.Var(orientationFlag{ignore}, "exif-orientation", "apply each photo's EXIF orientation before segmenting, so "+
		"masks and sizes are as the photo is displayed (false: keep the stored pixels)")
}

// orientationFlag is a boolean flag.Value that stores its negation in *ignore.
type orientationFlag struct{ ignore *bool }

func (o orientationFlag) String() string {
	return strconv.FormatBool(o.ignore == nil || !*o.ignore)
}

func (o orientationFlag) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return errors.New("parse error") // as the flag package's boolean flags word it
	}
	*o.ignore = !v
	return nil
}

// IsBoolFlag lets --exif-orientation stand alone, as a boolean flag.
func (o orientationFlag) IsBoolFlag() bool { return true }
