package main

import "flag"

// exifOrientationFlag registers --exif-orientation (VITSEG_EXIF_ORIENTATION), shared by the commands that
// segment photos.
func exifOrientationFlag(fs *flag.FlagSet) *bool {
	return fs.Bool("exif-orientation", true, "apply each photo's EXIF orientation before segmenting, so masks and "+
		"sizes are as the photo is displayed (false: keep the stored pixels)")
}
