package main

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/vitseg/vitseg/internal/envflag"
	"github.com/vitseg/vitseg/internal/objstore"
	"github.com/vitseg/vitseg/training"
)

// datasetCommands are the subcommands of "vitseg dataset".
func datasetCommands() []command {
	return []command{
		{name: "upload", summary: "upload a dataset folder (DIR s3://BUCKET/PREFIX)", run: runDatasetUpload},
		{name: "download", summary: "download Oxford-IIIT Pet (--out DIR)", run: runDatasetDownload},
	}
}

func runDatasetUpload(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("dataset upload", "dataset upload [flags] DIR s3://BUCKET/PREFIX", stderr)
	imagesOnly := fs.Bool("images-only", false, "upload only images/ (e.g. to feed the stream pipeline)")
	var s3 objstore.Config
	s3.RegisterFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return usagef("want DIR and s3://BUCKET/PREFIX")
	}
	bucket, prefix, err := objstore.ParseURL(fs.Arg(1))
	if err != nil {
		return usagef("%v", err)
	}
	client, err := objstore.New(s3)
	if err != nil {
		return err
	}
	n, err := training.UploadDataset(ctx, client, fs.Arg(0), bucket, prefix, *imagesOnly)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "uploaded %d objects to s3://%s/%s\n", n, bucket, prefix)
	return err
}

func runDatasetDownload(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("dataset download", "dataset download --out DIR [--url URL ...]", stderr)
	out := fs.String("out", "", "directory to extract the dataset into (required)")
	urls := fs.String("url", "", "comma-separated .tar.gz archives (default: the official Oxford-IIIT Pet archives)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usagef("--out is required")
	}
	list := envflag.List(*urls)
	if len(list) == 0 {
		list = training.OxfordPetArchives()
	}
	if err := training.Download(ctx, http.DefaultClient, list, *out); err != nil {
		return err
	}
	_, err := fmt.Fprintf(stdout, "extracted %d archives into %s\n", len(list), *out)
	return err
}
