// Command devbroker runs a small Kafka-protocol broker for development and
// integration tests. It wraps franz-go's kfake, which speaks the real Kafka
// wire protocol (produce, fetch, consumer groups, offset commits), and adds
// what a long-lived development broker needs: a fixed listen address,
// pre-created topics and, with --data-dir, state (topics, records, committed
// group offsets) that survives a restart.
//
// Usage:
//
//	devbroker --listen 127.0.0.1:9092 --data-dir ./kafka \
//	    --topics vitseg.images:4,vitseg.results:4
//
// Once the broker serves requests and the topics exist, devbroker prints each
// broker address on its own line to stdout and, with --addr-file, writes the
// same lines to that file (atomically). Logs go to stderr. SIGINT or SIGTERM
// stops it cleanly, flushing its state to the data directory.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(2)
	case err != nil:
		fmt.Fprintf(os.Stderr, "devbroker: %v\n", err)
		os.Exit(1)
	}
}

// run starts the broker described by args, reports its addresses to stdout
// once it is ready and serves until ctx is done.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	cluster, err := kfake.NewCluster(cfg.kfakeOptions(stderr)...)
	if err != nil {
		return fmt.Errorf("start cluster: %w", err)
	}
	defer cluster.Close()

	addrs := cluster.ListenAddrs()
	setupCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	err = ensureTopics(setupCtx, addrs, cfg.topics, stderr)
	cancel()
	if err != nil {
		return err
	}
	if cfg.addrFile != "" {
		if err := writeFileAtomic(cfg.addrFile, []byte(strings.Join(addrs, "\n")+"\n")); err != nil {
			return fmt.Errorf("write address file: %w", err)
		}
	}
	for _, a := range addrs {
		fmt.Fprintln(stdout, a)
	}
	fmt.Fprintf(stderr, "devbroker: ready brokers=%s data-dir=%q\n", strings.Join(addrs, ","), cfg.dataDir)

	<-ctx.Done()
	fmt.Fprintln(stderr, "devbroker: shutting down")
	cluster.Close()
	fmt.Fprintln(stderr, "devbroker: stopped")
	return nil
}

// writeFileAtomic writes data to a temporary file next to path and renames
// it into place, so that readers never observe a partial file.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
