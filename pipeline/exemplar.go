package pipeline

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"
)

// observeStage records d as the latency of stage for j. When j's image span is sampled (tracing is on), the
// observation carries its trace id as an OpenMetrics exemplar, so that a slow image on a latency panel links to
// its trace.
func (p *Pipeline) observeStage(stage string, j *job, d time.Duration) {
	obs := p.metrics.stageSeconds.WithLabelValues(stage)
	var sc trace.SpanContext
	if j.span != nil {
		sc = j.span.SpanContext()
	}
	if eo, ok := obs.(prometheus.ExemplarObserver); ok && sc.IsSampled() && j.span.IsRecording() {
		eo.ObserveWithExemplar(d.Seconds(), prometheus.Labels{"trace_id": sc.TraceID().String()})
		return
	}
	obs.Observe(d.Seconds())
}
