package imaging_test

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"

	"github.com/vitseg/vitseg/model/imaging"
)

// A 500x375 JPEG decoded for a 128x128 model: libjpeg-turbo decodes it at
// half scale, and the full size stays known for the mask.
func ExampleDecodeWith() {
	var photo bytes.Buffer
	if err := jpeg.Encode(&photo, image.NewRGBA(image.Rect(0, 0, 500, 375)), nil); err != nil {
		panic(err)
	}
	d, err := imaging.DecodeWith(photo.Bytes(), imaging.DecodeOptions{MinSize: 128})
	if err != nil {
		panic(err)
	}
	fmt.Println("decoded", d.Image.Bounds().Size(), "of", d.Width, "x", d.Height, "orientation", d.Orientation)
	// Output: decoded (250,188) of 500 x 375 orientation 1
}

// The model's 128x128 mask written at the photo's 500x375 without building
// the full-size mask; any PNG reader sees a paletted image of class ids.
func ExampleUpsampledMask_EncodePNG() {
	base := imaging.NewMask(128, 128)
	base.Pix[0] = imaging.ClassBorder
	var buf bytes.Buffer
	if err := (imaging.UpsampledMask{Base: base, Width: 500, Height: 375}).EncodePNG(&buf); err != nil {
		panic(err)
	}
	img, err := png.Decode(&buf)
	if err != nil {
		panic(err)
	}
	p := img.(*image.Paletted)
	fmt.Println(p.Bounds().Size(), "top-left", p.ColorIndexAt(0, 0), "centre", p.ColorIndexAt(250, 187))
	// Output: (500,375) top-left 2 centre 0
}
