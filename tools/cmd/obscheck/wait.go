package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/vitseg/vitseg/tools/internal/obscheck"
)

// runWait waits until every expression returns data.
func runWait(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("wait", stderr)
	prom := fs.String("prometheus", "http://127.0.0.1:9090", "Prometheus base URL")
	timeout := fs.Duration("timeout", 3*time.Minute, "how long to wait")
	poll := fs.Duration("poll", time.Second, "how often to query")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageError{"wait: give at least one expression"}
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	c := &obscheck.Checker{Client: obscheck.NewClient(*prom, &http.Client{Timeout: 10 * time.Second})}
	start := time.Now()
	if err := c.WaitForData(ctx, *poll, fs.Args()...); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "obscheck: %d expressions returned data after %s\n", fs.NArg(), time.Since(start).Round(time.Second))
	return nil
}
