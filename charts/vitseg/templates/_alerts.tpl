{{/*
The alert rules: the groups of the PrometheusRule (prometheusrule.yaml) and of
the plain rule file alerts/vitseg-rules.yaml, which tools/cmd/obsgen renders
from this template with alerts/render-values.yaml. Each alert's runbook_url
names its section of the chart's README (## Runbooks). Thresholds, windows and
`for` durations come from .Values.alerts. serve creates a labelled counter
series at its first increment, which increase() cannot see: the "any within
the window" alerts also take a series that exists now but did not a window
ago (`x unless x offset W`).
*/}}
{{- define "vitseg.alertGroups" -}}
{{- $a := .Values.alerts }}
{{- $full := include "vitseg.fullname" . }}
{{- $job := printf "job=%q" (default $full $a.job) }}
{{- $ns := printf "namespace=%q" .Release.Namespace }}
{{- $pods := printf "pod=~%q" (printf "%s-[a-z0-9]+-[a-z0-9]+" $full) }}
{{- $runbook := printf "%s#" $a.runbookURL -}}
- name: vitseg.serve
  rules:
    - alert: VitsegPartitionStalled
      expr: |-
        min_over_time(vitseg_messages_in_flight{ {{- $job -}} }[{{ $a.partitionStalled.window }}]) > 0
        unless on (job, instance) (
          increase(vitseg_images_processed_total{ {{- $job -}} }[{{ $a.partitionStalled.window }}]) > 0
          or on (job, instance)
          sum by (job, instance) (increase(vitseg_dead_lettered_total{ {{- $job -}} }[{{ $a.partitionStalled.window }}])) > 0
        )
      for: {{ $a.partitionStalled.for }}
      labels:
        severity: critical
      annotations:
        summary: vitseg {{ "{{ $labels.instance }}" }} holds {{ "{{ $value }}" }} uncommitted messages and finished none in {{ $a.partitionStalled.window }}
        description: Messages stayed in flight (fetched, not committed) for {{ $a.partitionStalled.window }} while no image was processed or dead-lettered, so the committed offsets of its partitions did not move.
        runbook_url: {{ $runbook }}vitsegpartitionstalled
    - alert: VitsegNoImagesProcessed
      expr: |-
        max by (job, instance) (vitseg_consumer_lag{ {{- $job -}} }) > 0
        unless on (job, instance)
        increase(vitseg_images_processed_total{ {{- $job -}} }[{{ $a.noImagesProcessed.window }}]) > 0
      for: {{ $a.noImagesProcessed.for }}
      labels:
        severity: critical
      annotations:
        summary: vitseg {{ "{{ $labels.instance }}" }} processed no image in {{ $a.noImagesProcessed.window }} while {{ "{{ $value }}" }} messages wait
        description: The consumer lag at its last fetch is above zero, yet no image was segmented in {{ $a.noImagesProcessed.window }}.
        runbook_url: {{ $runbook }}vitsegnoimagesprocessed
    - alert: VitsegDeadLetterRatioHigh
      expr: |-
        sum by (job) (rate(vitseg_dead_lettered_total{ {{- $job -}} }[{{ $a.deadLetterRatio.window }}]))
        /
        (
          sum by (job) (rate(vitseg_dead_lettered_total{ {{- $job -}} }[{{ $a.deadLetterRatio.window }}]))
          + sum by (job) (rate(vitseg_images_processed_total{ {{- $job -}} }[{{ $a.deadLetterRatio.window }}]))
        )
        > {{ $a.deadLetterRatio.threshold }}
      for: {{ $a.deadLetterRatio.for }}
      labels:
        severity: warning
      annotations:
        summary: vitseg dead-lettered {{ "{{ $value | humanizePercentage }}" }} of its image references in {{ $a.deadLetterRatio.window }} (threshold {{ $a.deadLetterRatio.threshold }})
        description: The share of finished image references that went to the dead-letter topic is above {{ $a.deadLetterRatio.threshold }}.
        runbook_url: {{ $runbook }}vitsegdeadletterratiohigh
    - alert: VitsegLatencyP99High
      expr: |-
        histogram_quantile(0.99, sum by (job, le) (rate(vitseg_stage_seconds_bucket{ {{- $job -}} ,stage="total"}[{{ $a.latency.window }}])))
        > {{ $a.latency.p99Seconds }}
      for: {{ $a.latency.for }}
      labels:
        severity: warning
      annotations:
        summary: vitseg p99 end-to-end latency is {{ "{{ $value | humanizeDuration }}" }}, above the objective of {{ $a.latency.p99Seconds }}s
        description: The 99th percentile of vitseg_stage_seconds{stage="total"} (fetch to result event) over {{ $a.latency.window }} is above {{ $a.latency.p99Seconds }}s.
        runbook_url: {{ $runbook }}vitseglatencyp99high
    - alert: VitsegModelReloadFailing
      expr: |-
        sum by (job, instance, result) (
          increase(vitseg_model_reloads_total{ {{- $job -}} ,result!="loaded"}[{{ $a.modelReload.window }}]) > 0
          or (
            vitseg_model_reloads_total{ {{- $job -}} ,result!="loaded"}
            unless vitseg_model_reloads_total{ {{- $job -}} ,result!="loaded"} offset {{ $a.modelReload.window }}
          )
        ) > 0
      labels:
        severity: warning
      annotations:
        summary: vitseg {{ "{{ $labels.instance }}" }} refused or failed a model reload ({{ "{{ $labels.result }}" }})
        description: A new model version in the registry could not replace the serving one in the last {{ $a.modelReload.window }}; the old model keeps serving.
        runbook_url: {{ $runbook }}vitsegmodelreloadfailing
    - alert: VitsegTargetDown
      expr: |-
        up{ {{- $job -}} } == 0
      for: {{ $a.targetDown.for }}
      labels:
        severity: critical
      annotations:
        summary: Prometheus cannot scrape vitseg {{ "{{ $labels.instance }}" }}
        description: The /metrics endpoint of the target has not answered for {{ $a.targetDown.for }}.
        runbook_url: {{ $runbook }}vitsegtargetdown
    - alert: VitsegReadinessFlapping
      expr: |-
        changes(kube_pod_status_ready{ {{- $ns -}} , {{- $pods -}} ,condition="true"}[{{ $a.readinessFlapping.window }}]) > {{ $a.readinessFlapping.changes }}
      labels:
        severity: warning
      annotations:
        summary: vitseg pod {{ "{{ $labels.pod }}" }} changed readiness {{ "{{ $value }}" }} times in {{ $a.readinessFlapping.window }}
        description: The pod went in and out of readiness (model loaded, S3 and Kafka reachable) more than {{ $a.readinessFlapping.changes }} times; from kube-state-metrics.
        runbook_url: {{ $runbook }}vitsegreadinessflapping
    - alert: VitsegS3Unreachable
      expr: |-
        sum by (job, instance) (increase(vitseg_retries_total{ {{- $job -}} ,operation=~"s3_.*"}[{{ $a.s3Unreachable.window }}])) > 0
        unless on (job, instance)
        increase(vitseg_images_processed_total{ {{- $job -}} }[{{ $a.s3Unreachable.window }}]) > 0
      for: {{ $a.s3Unreachable.for }}
      labels:
        severity: critical
      annotations:
        summary: vitseg {{ "{{ $labels.instance }}" }} retries S3 calls and completes none
        description: S3 reads or mask writes were retried in the last {{ $a.s3Unreachable.window }} and no image was processed.
        runbook_url: {{ $runbook }}vitsegs3unreachable
    - alert: VitsegKafkaUnreachable
      expr: |-
        sum by (job, instance) (increase(vitseg_retries_total{ {{- $job -}} ,operation=~"kafka_.*"}[{{ $a.kafkaUnreachable.window }}])) > 0
        unless on (job, instance)
        increase(vitseg_messages_consumed_total{ {{- $job -}} }[{{ $a.kafkaUnreachable.window }}]) > 0
      for: {{ $a.kafkaUnreachable.for }}
      labels:
        severity: critical
      annotations:
        summary: vitseg {{ "{{ $labels.instance }}" }} retries Kafka calls and consumes nothing
        description: Fetches or event writes to Kafka were retried in the last {{ $a.kafkaUnreachable.window }} and no message was consumed.
        runbook_url: {{ $runbook }}vitsegkafkaunreachable
    - alert: VitsegRetryBudgetExhausted
      expr: |-
        sum by (job, instance) (
          increase(vitseg_dead_lettered_total{ {{- $job -}} ,class="retries_exhausted"}[{{ $a.retryBudgetExhausted.window }}]) > 0
          or (
            vitseg_dead_lettered_total{ {{- $job -}} ,class="retries_exhausted"}
            unless vitseg_dead_lettered_total{ {{- $job -}} ,class="retries_exhausted"} offset {{ $a.retryBudgetExhausted.window }}
          )
        ) > 0
      labels:
        severity: warning
      annotations:
        summary: vitseg {{ "{{ $labels.instance }}" }} dead-lettered references whose retry budget ran out
        description: Calls kept failing for some items while the same dependency served other items, past --retry-budget, in the last {{ $a.retryBudgetExhausted.window }}.
        runbook_url: {{ $runbook }}vitsegretrybudgetexhausted
{{- if .Values.train.enabled }}
- name: vitseg.train
  rules:
    - alert: VitsegTrainingJobFailed
      expr: |-
        kube_job_status_failed{ {{- $ns -}} } > 0
        and on (namespace, job_name)
        kube_job_owner{ {{- $ns -}} ,owner_kind="CronJob",owner_name="{{ $full }}-train"}
      labels:
        severity: warning
      annotations:
        summary: vitseg training job {{ "{{ $labels.job_name }}" }} failed
        description: A Job of the CronJob {{ $full }}-train failed (kube-state-metrics); no model was published by that run.
        runbook_url: {{ $runbook }}vitsegtrainingjobfailed
{{- end }}
{{- end }}
