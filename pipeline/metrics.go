package pipeline

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/vitseg/vitseg/events"
	"github.com/vitseg/vitseg/model/registry"
)

// metrics are the pipeline's Prometheus metrics, registered on their own registry.
type metrics struct {
	registry       *prometheus.Registry
	consumed       prometheus.Counter
	processed      prometheus.Counter
	failed         *prometheus.CounterVec // by error class
	deadLettered   *prometheus.CounterVec // by error class
	ignored        prometheus.Counter
	retries        *prometheus.CounterVec // by operation
	batchSize      prometheus.Histogram
	stageSeconds   *prometheus.HistogramVec // by stage
	lag            prometheus.Gauge
	inFlight       prometheus.Gauge
	modelInfo      *prometheus.GaugeVec   // name, version, provider = 1 for the model in use
	modelReloads   *prometheus.CounterVec // by result: loaded, failed, refused_image_size
	commitFailures prometheus.Counter
	batchLimit     prometheus.Gauge // the batcher's size limit for the batch being filled
	batchWaitLimit prometheus.Gauge // its wait limit, in seconds
	predictedP99   prometheus.Gauge // the latency target policy's predicted p99, in seconds (0: no target)

	shadowImages       *prometheus.CounterVec   // by candidate version
	shadowDropped      *prometheus.CounterVec   // by candidate version
	shadowErrors       *prometheus.CounterVec   // by candidate version
	shadowAgreement    *prometheus.HistogramVec // by candidate version
	shadowIoU          *prometheus.HistogramVec // by candidate version
	shadowLatency      *prometheus.HistogramVec // by candidate version
	shadowLoads        *prometheus.CounterVec   // by result: loaded, failed
	lifecycleDecisions *prometheus.CounterVec   // by outcome: promoted, rejected
	rollbacks          prometheus.Counter
	labeled            *prometheus.CounterVec   // label objects, by result (feedback.go)
	labeledAccuracy    *prometheus.HistogramVec // by version
}

func newMetrics() *metrics {
	reg := prometheus.NewRegistry()
	m := &metrics{
		registry: reg,
		consumed: prometheus.NewCounter(prometheus.CounterOpts{Name: "vitseg_messages_consumed_total",
			Help: "Input messages fetched from Kafka."}),
		processed: prometheus.NewCounter(prometheus.CounterOpts{Name: "vitseg_images_processed_total",
			Help: "Images segmented, with their mask written and their result event produced."}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vitseg_images_failed_total",
			Help: "Image references that failed, by error class."}, []string{"class"}),
		deadLettered: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vitseg_dead_lettered_total",
			Help: "Dead-letter events produced, by error class."}, []string{"class"}),
		ignored: prometheus.NewCounter(prometheus.CounterOpts{Name: "vitseg_messages_ignored_total",
			Help: "Messages that ask for no work (the pipeline's own outputs, non-creation events)."}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vitseg_retries_total",
			Help: "Retries of transient failures, by operation."}, []string{"operation"}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "vitseg_batch_size",
			Help: "Images per inference batch.", Buckets: []float64{1, 2, 4, 8, 16, 32, 64}}),
		stageSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "vitseg_stage_seconds",
			Help:    "Per-image latency of each stage (queue, fetch, decode, infer, write, total).",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16)}, []string{"stage"}),
		lag: prometheus.NewGauge(prometheus.GaugeOpts{Name: "vitseg_consumer_lag",
			Help: "Messages behind the end of the input topic, at the last fetch."}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{Name: "vitseg_messages_in_flight",
			Help: "Fetched messages not yet committed."}),
		modelInfo: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "vitseg_model_info",
			Help: "1 for the model version in use."}, []string{"name", "version", "provider"}),
		modelReloads: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vitseg_model_reloads_total",
			Help: "Model reload attempts, by result (loaded, failed)."}, []string{"result"}),
		commitFailures: prometheus.NewCounter(prometheus.CounterOpts{Name: "vitseg_commit_failures_total",
			Help: "Offset commits that failed (they are retried)."}),
		batchLimit: prometheus.NewGauge(prometheus.GaugeOpts{Name: "vitseg_batcher_size_limit",
			Help: "Most images the batch being filled may hold (--max-batch, or the latency target's choice)."}),
		batchWaitLimit: prometheus.NewGauge(prometheus.GaugeOpts{Name: "vitseg_batcher_wait_limit_seconds",
			Help: "Longest wait of the batch being filled after its first image (--max-wait, or the latency target's choice)."}),
		predictedP99: prometheus.NewGauge(prometheus.GaugeOpts{Name: "vitseg_batcher_predicted_p99_seconds",
			Help: "p99 latency from fetch to event predicted for the current batch limits (0 without --latency-target)."}),
	}
	reg.MustRegister(m.consumed, m.processed, m.failed, m.deadLettered, m.ignored, m.retries, m.batchSize,
		m.stageSeconds, m.lag, m.inFlight, m.modelInfo, m.modelReloads, m.commitFailures, m.batchLimit, m.batchWaitLimit, m.predictedP99,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.zeroSeries()
	m.registerLifecycle()
	return m
}

// The values of vitseg_retries_total's operation label: the calls that are retried.
const (
	opKafkaFetch             = "kafka_fetch"
	opS3Get                  = "s3_get"
	opS3Put                  = "s3_put"
	opKafkaProduceResult     = "kafka_produce_result"
	opKafkaProduceDeadLetter = "kafka_produce_deadletter"
)

// retryOperations lists the retried operations.
func retryOperations() []string {
	return []string{opKafkaFetch, opS3Get, opS3Put, opKafkaProduceResult, opKafkaProduceDeadLetter}
}

// zeroSeries creates every labelled counter series at 0, so that rate() and increase() see the first event of a
// class, an operation or a reload result, and dashboards show the series before anything happened.
func (m *metrics) zeroSeries() {
	for _, c := range events.ErrorClasses() {
		m.failed.WithLabelValues(string(c))
		m.deadLettered.WithLabelValues(string(c))
	}
	for _, op := range retryOperations() {
		m.retries.WithLabelValues(op)
	}
	for _, r := range []string{reloadLoaded, reloadFailed, reloadRefusedImageSize} {
		m.modelReloads.WithLabelValues(r)
	}
}

// The values of vitseg_model_reloads_total's result label.
const (
	reloadLoaded           = "loaded"
	reloadFailed           = "failed"
	reloadRefusedImageSize = "refused_image_size"
)

// registerLifecycle creates and registers the metrics of shadow evaluation, promotion and rollback.
func (m *metrics) registerLifecycle() {
	byVersion := []string{"version"}
	counter := func(name, help string, labels []string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	}
	ratio := func(name, help string) *prometheus.HistogramVec {
		return prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help,
			Buckets: []float64{0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 1}}, byVersion)
	}
	m.labeled = counter("vitseg_lifecycle_labeled_total", "Label objects (trimaps under --labels-prefix) handled by the feedback stage, by result (scored, already_scored, skipped, failed).", []string{"result"})
	m.labeledAccuracy = ratio("vitseg_lifecycle_labeled_accuracy", "Pixel accuracy of a version's mask against a labeled photo's trimap, at the photo's size, by version.")
	m.shadowImages = counter("vitseg_shadow_images_total", "Live images the candidate segmented and compared, by candidate version.", byVersion)
	m.shadowDropped = counter("vitseg_shadow_dropped_total", "Sampled images dropped because the shadow queue was full, by candidate version.", byVersion)
	m.shadowErrors = counter("vitseg_shadow_errors_total", "Shadow inferences or comparisons that failed, by candidate version.", byVersion)
	m.shadowAgreement = ratio("vitseg_shadow_agreement", "Pixel agreement of the candidate's mask with the current model's, per image.")
	m.shadowIoU = ratio("vitseg_shadow_mean_iou", "Mean IoU between the candidate's and the current model's masks, per image.")
	m.shadowLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "vitseg_shadow_latency_seconds",
		Help:    "The candidate's inference time per image (its batch's time over the batch size).",
		Buckets: prometheus.ExponentialBuckets(0.001, 2, 16)}, byVersion)
	m.shadowLoads = counter("vitseg_shadow_loads_total", "Candidate loads for shadow evaluation, by result (loaded, failed).", []string{"result"})
	m.lifecycleDecisions = counter("vitseg_lifecycle_decisions_total", "Automatic decisions on candidates this replica carried out, by outcome (promoted, rejected).", []string{"outcome"})
	m.rollbacks = prometheus.NewCounter(prometheus.CounterOpts{Name: "vitseg_lifecycle_rollbacks_total",
		Help: "Automatic rollbacks of a promoted version this replica carried out."})
	m.registry.MustRegister(m.shadowImages, m.shadowDropped, m.shadowErrors, m.shadowAgreement, m.shadowIoU,
		m.shadowLatency, m.shadowLoads, m.lifecycleDecisions, m.rollbacks, m.labeled, m.labeledAccuracy)
	m.zeroLifecycleSeries()
}

// The values of vitseg_shadow_loads_total's result label.
const (
	shadowLoaded = "loaded"
	shadowFailed = "failed"
)

// zeroLifecycleSeries creates the lifecycle counters with fixed label values at 0 (as zeroSeries does), so that
// they exist, and dashboards show them, before any candidate or label.
func (m *metrics) zeroLifecycleSeries() {
	for _, r := range []string{shadowLoaded, shadowFailed} {
		m.shadowLoads.WithLabelValues(r)
	}
	for _, o := range []string{registry.OutcomePromoted, registry.OutcomeRejected} {
		m.lifecycleDecisions.WithLabelValues(o)
	}
	for _, r := range labelResults() {
		m.labeled.WithLabelValues(r)
	}
}
