package imaging

import (
	"bytes"
	"image"
	"slices"
	"testing"
)

func TestDecodeTrimap(t *testing.T) {
	gray := func(pix ...uint8) []byte {
		img := image.NewGray(image.Rect(0, 0, len(pix), 1))
		copy(img.Pix, pix)
		return encodePNG(t, img)
	}
	tests := []struct {
		name    string
		data    []byte
		want    []uint8
		wantErr bool
	}{
		{"pet, background, border", gray(1, 2, 3, 1), []uint8{ClassPet, ClassBackground, ClassBorder, ClassPet}, false},
		{"zero is not a trimap value", gray(1, 0), nil, true},
		{"four is not a trimap value", gray(4), nil, true},
		{"not a PNG", []byte("not a png"), nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := DecodeTrimap(tc.data)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if err == nil && (!slices.Equal(m.Pix, tc.want) || m.Width != len(tc.want) || m.Height != 1) {
				t.Errorf("DecodeTrimap = %dx%d %v, want %dx1 %v", m.Width, m.Height, m.Pix, len(tc.want), tc.want)
			}
		})
	}
}

// TestDecodeTrimapDataset: a trimap of the sample dataset decodes at its photo's size.
func TestDecodeTrimapDataset(t *testing.T) {
	m, err := DecodeTrimap(readDataset(t, "annotations/trimaps/Abyssinian_1.png"))
	if err != nil {
		t.Fatal(err)
	}
	photo, err := Decode(bytes.NewReader(readDataset(t, "images/Abyssinian_1.jpg")), DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	if m.Width != photo.Width || m.Height != photo.Height {
		t.Errorf("trimap %dx%d, photo %dx%d", m.Width, m.Height, photo.Width, photo.Height)
	}
}
