package grafanadash

import (
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// row is a titled row of panels.
type row struct {
	title  string
	panels []cog.Builder[dashboard.Panel]
}

// rows are the dashboard's rows, top to bottom.
func rows() []row {
	return []row{
		{"Overview", overview()},
		{"Latency", latency()},
		{"Batcher", batcher()},
		{"Kafka", kafka()},
		{"Errors and retries", errorsAndRetries()},
		{"Model", modelPanels()},
		{"Model lifecycle", lifecyclePanels()},
		{"Resources", resources()},
	}
}

// rate is the per-second rate of counter over Grafana's rate interval, for the chosen targets, summed by by.
func rate(counter, matchers, by string) string {
	if matchers != "" {
		matchers = "," + matchers
	}
	return fmt.Sprintf("sum by (%s) (rate(%s{%s%s}[$__rate_interval]))", by, counter, sel, matchers)
}

// stageQuantile is the q-quantile of vitseg_stage_seconds for the stages stageMatcher selects, by by.
func stageQuantile(q float64, stageMatcher, by string) string {
	return fmt.Sprintf("histogram_quantile(%g, sum by (%s) (rate(vitseg_stage_seconds_bucket{%s,%s}[$__rate_interval])))",
		q, by, sel, stageMatcher)
}

func overview() []cog.Builder[dashboard.Panel] {
	return []cog.Builder[dashboard.Panel]{
		graph("Throughput", "Images segmented (mask written, result produced), input messages consumed, and messages "+
			"that asked for no work, per second.", "ops", halfWidth,
			query{rate("vitseg_images_processed_total", "", "instance"), "processed {{instance}}"},
			query{rate("vitseg_messages_consumed_total", "", "instance"), "consumed {{instance}}"},
			query{rate("vitseg_messages_ignored_total", "", "instance"), "ignored {{instance}}"}),
		single("Targets up", "Whether Prometheus scrapes each serve pod (up). Readiness itself (model, S3, Kafka) "+
			"is /readyz, which exports no metric.", "none", thirdWidth/2, false,
			query{`up{` + sel + `}`, "{{instance}}"}),
		single("Serving model", "The model version each pod serves (vitseg_model_info).", "none", halfWidth-thirdWidth/2, true,
			query{`max by (instance, name, version, provider) (vitseg_model_info{` + sel + `})`,
				"{{instance}}: {{name}} {{version}} ({{provider}})"}),
	}
}

func latency() []cog.Builder[dashboard.Panel] {
	total := `stage="total"`
	return []cog.Builder[dashboard.Panel]{
		graph("End-to-end latency", "Fetch to result event (vitseg_stage_seconds, stage total), all chosen pods.", "s", thirdWidth,
			query{stageQuantile(0.5, total, "le"), "p50"},
			query{stageQuantile(0.9, total, "le"), "p90"},
			query{stageQuantile(0.99, total, "le"), "p99"}),
		graph("Stage latency p99", "99th percentile of each stage: queue (decoded to batch start), fetch, decode, "+
			"infer, write.", "s", thirdWidth,
			query{stageQuantile(0.99, `stage!="total"`, "le, stage"), "{{stage}}"}),
		graph("Stage latency p50", "Median of each stage.", "s", thirdWidth,
			query{stageQuantile(0.5, `stage!="total"`, "le, stage"), "{{stage}}"}),
		distribution("Batch size distribution", "Inference batches by size (vitseg_batch_size buckets).", halfWidth,
			query{`sum by (le) (increase(vitseg_batch_size_bucket{` + sel + `}[$__rate_interval]))`, "{{le}}"}),
		graph("Mean batch size", "Images per inference batch, on average.", "short", halfWidth,
			query{`sum by (instance) (rate(vitseg_batch_size_sum{` + sel + `}[$__rate_interval])) / ` +
				`sum by (instance) (rate(vitseg_batch_size_count{` + sel + `}[$__rate_interval]))`, "{{instance}}"}),
	}
}

func kafka() []cog.Builder[dashboard.Panel] {
	return []cog.Builder[dashboard.Panel]{
		graph("Consumer lag", "Messages behind the end of the input topic at each pod's last fetch, summed over the "+
			"partitions it consumes (vitseg_consumer_lag has no partition label).", "short", thirdWidth,
			query{`max by (instance) (vitseg_consumer_lag{` + sel + `})`, "{{instance}}"}),
		graph("In flight", "Fetched messages not yet committed.", "short", thirdWidth,
			query{`max by (instance) (vitseg_messages_in_flight{` + sel + `})`, "{{instance}}"}),
		graph("Commit failures", "Offset commits that failed (they are retried), per second.", "ops", thirdWidth,
			query{rate("vitseg_commit_failures_total", "", "instance"), "{{instance}}"}),
	}
}

func errorsAndRetries() []cog.Builder[dashboard.Panel] {
	deadLettered := `sum(rate(vitseg_dead_lettered_total{` + sel + `}[$__rate_interval]))`
	processed := `sum(rate(vitseg_images_processed_total{` + sel + `}[$__rate_interval]))`
	return []cog.Builder[dashboard.Panel]{
		graph("Dead letters by class", "Dead-letter events per second by error class; retries_exhausted is the "+
			"retry budget running out.", "ops", thirdWidth,
			query{rate("vitseg_dead_lettered_total", "", "class"), "{{class}}"}),
		graph("Dead-letter ratio", "Share of finished image references that were dead-lettered.", "percentunit", thirdWidth,
			query{deadLettered + " / (" + deadLettered + " + " + processed + ")", "dead-lettered"}),
		graph("Retries by operation", "Retries of transient failures per second (S3 get/put, Kafka fetch and "+
			"produce).", "ops", thirdWidth,
			query{rate("vitseg_retries_total", "", "operation"), "{{operation}}"}),
	}
}

func modelPanels() []cog.Builder[dashboard.Panel] {
	return []cog.Builder[dashboard.Panel]{
		graph("Model reloads", "Hot reloads from the registry by result (loaded, failed, refused_image_size), per "+
			"interval.", "short", halfWidth,
			query{`sum by (result) (increase(vitseg_model_reloads_total{` + sel + `}[$__rate_interval]))`, "{{result}}"}),
		graph("Model version in use", "One series per model version served, over time.", "none", halfWidth,
			query{`count by (version) (vitseg_model_info{` + sel + `})`, "{{version}}"}),
	}
}

// lifecyclePanels show the model lifecycle with the series a serve has from its start, candidate or not
// (vitseg_shadow_* by candidate version exist only while one is evaluated).
func lifecyclePanels() []cog.Builder[dashboard.Panel] {
	increase := func(counter, by string) string {
		return fmt.Sprintf("sum by (%s) (increase(%s{%s}[$__rate_interval]))", by, counter, sel)
	}
	return []cog.Builder[dashboard.Panel]{
		graph("Lifecycle decisions", "Candidates promoted or rejected automatically, and promoted versions rolled "+
			"back, by the replica that carried the decision out, per interval.", "short", thirdWidth,
			query{increase("vitseg_lifecycle_decisions_total", "outcome"), "{{outcome}}"},
			query{`sum(increase(vitseg_lifecycle_rollbacks_total{` + sel + `}[$__rate_interval]))`, "rolled back"}),
		graph("Candidate loads", "Loads of the registry's candidate for shadow evaluation, by result (a failed load "+
			"never touches the serving model), per interval.", "short", thirdWidth,
			query{increase("vitseg_shadow_loads_total", "result"), "{{result}}"}),
		graph("Labeled feedback", "Trimaps under --labels-prefix handled per second, by result: scored against the "+
			"serving model and the candidate, already scored, skipped (no photo served here, invalid), failed.", "ops", thirdWidth,
			query{rate("vitseg_lifecycle_labeled_total", "", "result"), "{{result}}"}),
	}
}

func resources() []cog.Builder[dashboard.Panel] {
	return []cog.Builder[dashboard.Panel]{
		graph("CPU per pod", "CPU seconds per second of each serve process (process_cpu_seconds_total).", "short", halfWidth,
			query{`sum by (instance) (rate(process_cpu_seconds_total{` + sel + `}[$__rate_interval]))`, "{{instance}}"}),
		graph("Memory per pod", "Resident memory of each serve process (process_resident_memory_bytes).", "bytes", halfWidth,
			query{`max by (instance) (process_resident_memory_bytes{` + sel + `})`, "{{instance}}"}),
	}
}

func batcher() []cog.Builder[dashboard.Panel] {
	return []cog.Builder[dashboard.Panel]{
		graph("Batch limits", "The size limit of the batch being filled (--max-batch, or what --latency-target "+
			"chose) and its wait limit.", "short", thirdWidth,
			query{`max by (instance) (vitseg_batcher_size_limit{` + sel + `})`, "size {{instance}}"}),
		graph("Batch wait limit", "How long the batch being filled may wait after its first image.", "s", thirdWidth,
			query{`max by (instance) (vitseg_batcher_wait_limit_seconds{` + sel + `})`, "{{instance}}"}),
		graph("p99 latency: predicted and observed", "What the latency target policy predicts for its limits "+
			"(0 without --latency-target) and the observed end-to-end p99.", "s", thirdWidth,
			query{`max by (instance) (vitseg_batcher_predicted_p99_seconds{` + sel + `})`, "predicted {{instance}}"},
			query{stageQuantile(0.99, `stage="total"`, "le, instance"), "observed {{instance}}"}),
	}
}
