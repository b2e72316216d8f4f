package registry_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/vitseg/vitseg/model/registry"
)

// newClient returns a client of the examples' MinIO server; any S3 endpoint works the same.
func newClient() *minio.Client {
	client, err := minio.New(s3Endpoint, &minio.Options{Creds: credentials.NewStaticV4(s3AccessKey, s3SecretKey, "")})
	if err != nil {
		log.Fatal(err)
	}
	return client
}

// candidate returns the metadata of a trained model evaluated on the split "val".
func candidate(pixelAccuracy float64) registry.VersionMetadata {
	return registry.VersionMetadata{
		Metrics:   map[string]float64{"pixel_accuracy": pixelAccuracy},
		EvalSplit: "val",
	}
}

// Publish uploads a trained model as the next version and makes it current only if the quality gate passes:
// its metric may be at most Tolerance below the current version's on the same evaluation split.
func ExampleRegistry_Publish() {
	reg := registry.New(newClient(), "models", "pets")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	onnx := []byte("model.onnx as exported by training") // stored as is
	gate := registry.Gate{Metric: "pixel_accuracy", Tolerance: 0.01}
	for _, acc := range []float64{0.80, 0.75, 0.795} {
		res, err := reg.Publish(ctx, onnx, candidate(acc), registry.PublishOptions{Gate: gate})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(res.Version, res.Published, res.Reason)
	}
	cur, err := reg.Current(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("current:", cur.Version, "previous:", cur.Previous)
	// Output:
	// 000001 true no current version to compare with
	// 000002 false pixel_accuracy 0.750000 < 0.790000 (current 000001 0.800000 - tolerance 0.010000) on split "val"
	// 000003 true pixel_accuracy 0.795000 >= 0.790000 (current 000001 0.800000 - tolerance 0.010000) on split "val"
	// current: 000003 previous: 000001
}

// A server watches the pointer to the current version and loads each version that a publish makes current,
// while it keeps serving the one it has.
func ExampleRegistry_Watch() {
	reg := registry.New(newClient(), "models", "pets-watch")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := reg.Publish(ctx, []byte("model one"), candidate(0.80), registry.PublishOptions{}); err != nil {
		log.Fatal(err)
	}

	watchCtx, stop := context.WithCancel(ctx)
	loaded := make(chan string)
	done := make(chan error, 1)
	go func() {
		done <- reg.Watch(watchCtx, "", 100*time.Millisecond, func(ctx context.Context, p registry.Pointer) error {
			onnx, err := reg.Model(ctx, p.Version) // checked against the size and SHA-256 in metadata.json
			if err != nil {
				return err // tried again at the next poll
			}
			loaded <- fmt.Sprintf("serving %s (%s)", p.Version, onnx)
			return nil
		})
	}()
	next := func() string {
		select {
		case s := <-loaded:
			return s
		case <-ctx.Done():
			log.Fatal("no new version loaded: ", ctx.Err())
			return ""
		}
	}
	fmt.Println(next())

	if _, err := reg.Publish(ctx, []byte("model two"), candidate(0.85), registry.PublishOptions{}); err != nil {
		log.Fatal(err)
	}
	fmt.Println(next())

	stop()
	fmt.Println("watch ended:", errors.Is(<-done, context.Canceled))
	// Output:
	// serving 000001 (model one)
	// serving 000002 (model two)
	// watch ended: true
}
