package consumer_test

import (
	"errors"
	"fmt"

	"github.com/vitseg/vitseg/consumer"
)

// An input message (here a plain JSON reference; MinIO bucket notifications are read the same way) is parsed
// into image references, and each reference is checked against the allow list and the pipeline's own
// output location.
func ExampleParseMessage() {
	allow, err := consumer.ParseAllowList("pets/uploads/")
	if err != nil {
		panic(err)
	}
	filter, err := consumer.NewFilter(allow, "", "masks/")
	if err != nil {
		panic(err)
	}
	for _, msg := range []string{
		`{"bucket":"pets","key":"uploads/cat.jpg"}`,
		`{"bucket":"pets","key":"masks/uploads/cat.jpg.e.v.mask.png"}`,
		`{"bucket":"other","key":"dog.jpg"}`,
		`{"bucket":`,
	} {
		refs, err := consumer.ParseMessage([]byte(msg))
		if err != nil {
			fmt.Println("malformed:", errors.Is(err, consumer.ErrMalformed))
			continue
		}
		for _, ref := range refs {
			switch err := filter.Check(ref); {
			case err == nil:
				fmt.Println("process", ref.Bucket, ref.Key)
			case errors.Is(err, consumer.ErrIgnored):
				fmt.Println("ignore our own output", ref.Key)
			case errors.Is(err, consumer.ErrNotAllowed):
				fmt.Println("not allowed", ref.Bucket)
			}
		}
	}
	// Output:
	// process pets uploads/cat.jpg
	// ignore our own output masks/uploads/cat.jpg.e.v.mask.png
	// not allowed other
	// malformed: true
}
