package pipeline

import (
	"slices"
	"testing"

	"github.com/vitseg/vitseg/consumer"
)

func TestLabelRoute(t *testing.T) {
	tests := []struct {
		name    string
		prefix  string
		ref     consumer.ImageRef
		isLabel bool
		photos  []string
	}{
		{"trimap under the prefix", "pets/labeled", consumer.ImageRef{Bucket: "pets", Key: "labeled/annotations/trimaps/Abyssinian_1.png"}, true,
			[]string{"labeled/images/Abyssinian_1.jpg", "labeled/images/Abyssinian_1.jpeg", "labeled/images/Abyssinian_1.png"}},
		{"s3 scheme, trailing slash", "s3://pets/labeled/", consumer.ImageRef{Bucket: "pets", Key: "labeled/annotations/trimaps/a.PNG"}, true,
			[]string{"labeled/images/a.jpg", "labeled/images/a.jpeg", "labeled/images/a.png"}},
		{"whole bucket", "pets", consumer.ImageRef{Bucket: "pets", Key: "annotations/trimaps/b.png"}, true,
			[]string{"images/b.jpg", "images/b.jpeg", "images/b.png"}},
		{"a photo is not a label", "pets/labeled", consumer.ImageRef{Bucket: "pets", Key: "labeled/images/Abyssinian_1.jpg"}, false, nil},
		{"another bucket", "pets/labeled", consumer.ImageRef{Bucket: "cats", Key: "labeled/annotations/trimaps/a.png"}, false, nil},
		{"a deeper folder", "pets/labeled", consumer.ImageRef{Bucket: "pets", Key: "labeled/annotations/trimaps/x/a.png"}, false, nil},
		{"not a PNG", "pets/labeled", consumer.ImageRef{Bucket: "pets", Key: "labeled/annotations/trimaps/a.txt"}, false, nil},
		{"the split files", "pets/labeled", consumer.ImageRef{Bucket: "pets", Key: "labeled/annotations/trainval.txt"}, false, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := parseLabelRoute(tc.prefix)
			if err != nil {
				t.Fatal(err)
			}
			if got := r.isLabel(tc.ref); got != tc.isLabel {
				t.Fatalf("isLabel(%s) = %v, want %v", tc.ref, got, tc.isLabel)
			}
			if got := r.photoKeys(tc.ref.Key); tc.isLabel && !slices.Equal(got, tc.photos) {
				t.Errorf("photoKeys = %v, want %v", got, tc.photos)
			}
		})
	}
	for _, bad := range []string{"", "a,b", "Not_A_Bucket/x"} {
		if _, err := parseLabelRoute(bad); err == nil {
			t.Errorf("parseLabelRoute(%q) accepted", bad)
		}
	}
	var none *labelRoute
	if none.isLabel(consumer.ImageRef{Bucket: "pets", Key: "annotations/trimaps/a.png"}) {
		t.Error("a nil route took a label")
	}
}
