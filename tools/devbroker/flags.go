package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

// topicSpec is a topic to create at start: name and partition count.
type topicSpec struct {
	name       string
	partitions int32
}

// config is the parsed command line.
type config struct {
	host              string // advertised and listened on
	port              int    // first broker's port; 0 picks free ports
	brokers           int
	dataDir           string
	addrFile          string
	topics            []topicSpec
	logLevel          kfake.LogLevel
	syncWrites        bool
	minSessionTimeout time.Duration
	clusterID         string
}

// defaultPartitions is the partition count of a --topics entry without one.
const defaultPartitions = 1

func parseFlags(args []string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("devbroker", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		cfg      config
		listen   string
		topics   string
		logLevel string
	)
	fs.StringVar(&listen, "listen", "127.0.0.1:9092", "`host:port` of the first broker; port 0 picks a free port. "+
		"The host is advertised to clients, so it must be a concrete address, not 0.0.0.0")
	fs.IntVar(&cfg.brokers, "brokers", 1, "number of brokers in the cluster; broker i listens on port+i (or a free port when port is 0)")
	fs.StringVar(&cfg.dataDir, "data-dir", "", "directory that keeps topics, records and committed offsets across restarts (empty: in memory only)")
	fs.StringVar(&cfg.addrFile, "addr-file", "", "file to write the broker addresses to, one a line, once the broker is ready")
	fs.StringVar(&topics, "topics", "", "topics to create at start, `name[:partitions],...` (default partitions: 1); existing topics are kept")
	fs.StringVar(&logLevel, "log-level", "warn", "kfake log level: none, error, warn, info, debug")
	fs.BoolVar(&cfg.syncWrites, "sync-writes", false, "fsync every produced batch (slower, survives a machine crash)")
	fs.DurationVar(&cfg.minSessionTimeout, "group-min-session-timeout", 6*time.Second, "smallest consumer-group session timeout the broker accepts")
	fs.StringVar(&cfg.clusterID, "cluster-id", "devbroker", "cluster ID reported in metadata")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}

	var err error
	if cfg.host, cfg.port, err = parseListen(listen); err != nil {
		return config{}, err
	}
	if cfg.brokers < 1 {
		return config{}, fmt.Errorf("--brokers must be at least 1, got %d", cfg.brokers)
	}
	if cfg.port != 0 && cfg.port+cfg.brokers-1 > 65535 {
		return config{}, fmt.Errorf("--listen port %d leaves no room for %d brokers", cfg.port, cfg.brokers)
	}
	if cfg.topics, err = parseTopics(topics); err != nil {
		return config{}, err
	}
	if cfg.logLevel, err = parseLogLevel(logLevel); err != nil {
		return config{}, err
	}
	return cfg, nil
}

// parseListen splits a listen address and rejects wildcard hosts, which
// cannot be advertised to clients.
func parseListen(s string) (host string, port int, err error) {
	host, portStr, err := net.SplitHostPort(s)
	if err != nil {
		return "", 0, fmt.Errorf("--listen %q: %w", s, err)
	}
	if host == "" {
		return "", 0, fmt.Errorf("--listen %q: host is required (it is advertised to clients)", s)
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		return "", 0, fmt.Errorf("--listen %q: wildcard host cannot be advertised to clients; use a concrete address", s)
	}
	port, err = strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("--listen %q: invalid port", s)
	}
	return host, port, nil
}

// parseTopics parses "name[:partitions],..." into topic specs.
func parseTopics(s string) ([]topicSpec, error) {
	var specs []topicSpec
	seen := make(map[string]bool)
	for entry := range strings.SplitSeq(s, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		name, parts, hasParts := strings.Cut(entry, ":")
		spec := topicSpec{name: name, partitions: defaultPartitions}
		if hasParts {
			n, err := strconv.ParseInt(parts, 10, 32)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("--topics entry %q: partitions must be a positive integer", entry)
			}
			spec.partitions = int32(n)
		}
		if err := validateTopicName(name); err != nil {
			return nil, fmt.Errorf("--topics entry %q: %w", entry, err)
		}
		if seen[name] {
			return nil, fmt.Errorf("--topics: topic %q listed twice", name)
		}
		seen[name] = true
		specs = append(specs, spec)
	}
	return specs, nil
}

// validateTopicName applies Kafka's topic name rules.
func validateTopicName(name string) error {
	if name == "" || name == "." || name == ".." {
		return fmt.Errorf("invalid topic name %q", name)
	}
	if len(name) > 249 {
		return fmt.Errorf("topic name longer than 249 characters")
	}
	for _, r := range name {
		ok := r == '.' || r == '_' || r == '-' ||
			(r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')
		if !ok {
			return fmt.Errorf("topic name %q: character %q not allowed (use [a-zA-Z0-9._-])", name, r)
		}
	}
	return nil
}

func parseLogLevel(s string) (kfake.LogLevel, error) {
	switch strings.ToLower(s) {
	case "none":
		return kfake.LogLevelNone, nil
	case "error":
		return kfake.LogLevelError, nil
	case "warn":
		return kfake.LogLevelWarn, nil
	case "info":
		return kfake.LogLevelInfo, nil
	case "debug":
		return kfake.LogLevelDebug, nil
	}
	return 0, fmt.Errorf("--log-level %q: want none, error, warn, info or debug", s)
}

// kfakeOptions translates the configuration into kfake cluster options.
func (c config) kfakeOptions(stderr io.Writer) []kfake.Opt {
	ports := make([]int, c.brokers)
	if c.port != 0 {
		for i := range ports {
			ports[i] = c.port + i
		}
	}
	host := c.host
	opts := []kfake.Opt{
		kfake.Ports(ports...),
		// kfake always listens on 127.0.0.1; keep its port choice but
		// bind (and so advertise) the configured host.
		kfake.ListenFn(func(network, address string) (net.Listener, error) {
			_, port, err := net.SplitHostPort(address)
			if err != nil {
				return nil, err
			}
			return net.Listen(network, net.JoinHostPort(host, port))
		}),
		kfake.ClusterID(c.clusterID),
		kfake.GroupMinSessionTimeout(c.minSessionTimeout),
		kfake.WithLogger(kfake.BasicLogger(stderr, c.logLevel)),
	}
	if c.dataDir != "" {
		opts = append(opts, kfake.DataDir(c.dataDir))
	}
	if c.syncWrites {
		opts = append(opts, kfake.SyncWrites())
	}
	return opts
}
