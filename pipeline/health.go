package pipeline

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
)

// minProbeGap is the shortest time between two S3 probes asked for by failing calls.
const minProbeGap = 500 * time.Millisecond

// probe checks S3 and Kafka reachability every ProbeInterval, and S3 also when a call failed transiently
// (probeNow), until ctx ends. Readiness is what the probes see: one item's failures never make the pipeline
// unready while the dependency answers its probe.
func (p *Pipeline) probe(ctx context.Context) {
	checkS3 := func() {
		pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		p.s3OK.Store(p.deps.Store.Probe(pctx) == nil)
	}
	check := func() {
		checkS3()
		pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		if p.deps.KafkaProbe != nil {
			p.kafkaOK.Store(p.deps.KafkaProbe(pctx) == nil)
		} else {
			p.kafkaOK.Store(true)
		}
	}
	check()
	t := time.NewTicker(p.cfg.ProbeInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			check()
		case <-p.probeNow:
			checkS3()
			select { // At most one asked-for probe per minProbeGap.
			case <-time.After(minProbeGap):
			case <-ctx.Done():
				return
			}
		}
	}
}

// Status is the readiness report of /readyz.
type Status struct {
	Ready        bool   `json:"ready"`
	ModelLoaded  bool   `json:"model_loaded"`
	ModelVersion string `json:"model_version"`
	S3           bool   `json:"s3"`
	Kafka        bool   `json:"kafka"`
	InFlight     int    `json:"in_flight"`
}

// Status reports readiness: a model is loaded and S3 and Kafka are reachable.
func (p *Pipeline) Status() Status {
	s := Status{ModelLoaded: p.modelReady.Load(), S3: p.s3OK.Load(), Kafka: p.kafkaOK.Load(), InFlight: p.wm.InFlight()}
	s.ModelVersion, _ = p.modelVer.Load().(string)
	s.Ready = s.ModelLoaded && s.S3 && s.Kafka
	return s
}

// Handler serves /metrics (Prometheus), /healthz (the process is alive) and /readyz (200 when ready, else 503).
func (p *Pipeline) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(p.metrics.registry, promhttp.HandlerOpts{EnableOpenMetrics: true}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		s := p.Status()
		w.Header().Set("Content-Type", "application/json")
		if !s.Ready {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		_ = json.NewEncoder(w).Encode(s)
	})
	return mux
}

// Gather returns the current values of the pipeline's metrics.
func (p *Pipeline) Gather() ([]*dto.MetricFamily, error) { return p.metrics.registry.Gather() }
