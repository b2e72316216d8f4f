package consumer_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

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

// A Reader consumes the input topic as a member of a consumer group and commits nothing on its own: commit a
// message once its images are processed, and a restarted consumer resumes after it.
func ExampleReader() {
	r, err := consumer.NewReader(consumer.ReaderConfig{
		Brokers: brokers, // for instance []string{"kafka-1:9092", "kafka-2:9092"}
		GroupID: "vitseg",
		Topic:   "vitseg.images",
	})
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	msg, err := r.Fetch(ctx)
	if err != nil {
		log.Fatal(err)
	}
	refs, err := consumer.ParseMessage(msg.Value)
	if err != nil {
		log.Fatal(err) // a real consumer dead-letters it instead (errors.Is(err, consumer.ErrMalformed))
	}
	w := consumer.NewWatermark()
	w.Track(msg.Partition, msg.Offset) // handed out for processing
	for _, ref := range refs {
		fmt.Println("segment", ref) // process the image here
	}
	w.Done(msg.Partition, msg.Offset) // its outputs are durable
	if err := r.Commit(ctx, w); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("committed partition %d offset %d, lag %d\n", msg.Partition, msg.Offset, r.Lag())
	// Output:
	// segment pets/uploads/cat.jpg
	// committed partition 0 offset 0, lag 0
}
