{{/*
Chart name, truncated to 63 characters.
*/}}
{{- define "vitseg.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Full name: release-chart unless the release name already contains the chart
name. Truncated to 40 characters so that every derived name (-kafka-sasl,
the CronJob's -train and the Job suffixes) stays within Kubernetes' limits.
*/}}
{{- define "vitseg.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "vitseg.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Selector labels of one component: (dict "root" $ "component" "serve").
*/}}
{{- define "vitseg.selectorLabels" -}}
app.kubernetes.io/name: {{ include "vitseg.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/*
Standard labels: (dict "root" $ "component" "serve"); component may be "".
*/}}
{{- define "vitseg.labels" -}}
helm.sh/chart: {{ include "vitseg.chart" .root }}
app.kubernetes.io/name: {{ include "vitseg.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- with .component }}
app.kubernetes.io/component: {{ . }}
{{- end }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: vitseg
{{- with .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "vitseg.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "vitseg.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
Image of a workload: (dict "root" $ "gpu" .Values.serve.gpu). The cpu or cuda
flavour follows gpu.enabled.
*/}}
{{- define "vitseg.image" -}}
{{- $flavour := ternary "cuda" "cpu" .gpu.enabled }}
{{- $digest := get .root.Values.image.digest $flavour }}
{{- if $digest }}
{{- printf "%s@%s" .root.Values.image.repository $digest }}
{{- else }}
{{- printf "%s:%s-%s" .root.Values.image.repository (default .root.Chart.AppVersion .root.Values.image.tag) $flavour }}
{{- end }}
{{- end }}

{{/* Name of the Secret with the S3 credentials, empty when there is none. */}}
{{- define "vitseg.s3SecretName" -}}
{{- if .Values.s3.existingSecret }}
{{- .Values.s3.existingSecret }}
{{- else if .Values.s3.createSecret }}
{{- printf "%s-s3" (include "vitseg.fullname" .) }}
{{- end }}
{{- end }}

{{/* Name of the Secret with the Kafka SASL credentials, empty when there is none. */}}
{{- define "vitseg.kafkaSaslSecretName" -}}
{{- if .Values.kafka.sasl.existingSecret }}
{{- .Values.kafka.sasl.existingSecret }}
{{- else if .Values.kafka.sasl.createSecret }}
{{- printf "%s-kafka-sasl" (include "vitseg.fullname" .) }}
{{- end }}
{{- end }}

{{/* Mount points of the CA bundles. */}}
{{- define "vitseg.s3CAFile" -}}
/etc/vitseg/s3-ca/{{ .Values.s3.tls.caKey }}
{{- end }}
{{- define "vitseg.kafkaCAFile" -}}
/etc/vitseg/kafka-ca/{{ .Values.kafka.tls.caKey }}
{{- end }}

{{/*
Credential environment variables, all from Secrets:
(dict "root" $ "kafka" true) adds the Kafka SASL ones.
*/}}
{{- define "vitseg.secretEnv" -}}
{{- $s3 := include "vitseg.s3SecretName" .root }}
{{- if $s3 }}
- name: VITSEG_S3_ACCESS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $s3 }}
      key: {{ .root.Values.s3.accessKeyKey }}
- name: VITSEG_S3_SECRET_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $s3 }}
      key: {{ .root.Values.s3.secretKeyKey }}
{{- end }}
{{- $sasl := include "vitseg.kafkaSaslSecretName" .root }}
{{- if and .kafka $sasl .root.Values.kafka.sasl.mechanism }}
- name: VITSEG_KAFKA_SASL_USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ $sasl }}
      key: {{ .root.Values.kafka.sasl.usernameKey }}
- name: VITSEG_KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $sasl }}
      key: {{ .root.Values.kafka.sasl.passwordKey }}
{{- end }}
{{- end }}

{{/*
Volumes shared by both workloads: /tmp and the CA bundles.
(dict "root" $ "kafka" true "tmpSizeLimit" "1Gi")
*/}}
{{- define "vitseg.commonVolumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .tmpSizeLimit }}
{{- if and .root.Values.s3.tls.enabled .root.Values.s3.tls.caSecret }}
- name: s3-ca
  secret:
    secretName: {{ .root.Values.s3.tls.caSecret }}
    items:
      - key: {{ .root.Values.s3.tls.caKey }}
        path: {{ .root.Values.s3.tls.caKey }}
{{- end }}
{{- if and .kafka .root.Values.kafka.tls.enabled .root.Values.kafka.tls.caSecret }}
- name: kafka-ca
  secret:
    secretName: {{ .root.Values.kafka.tls.caSecret }}
    items:
      - key: {{ .root.Values.kafka.tls.caKey }}
        path: {{ .root.Values.kafka.tls.caKey }}
{{- end }}
{{- end }}

{{- define "vitseg.commonVolumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- if and .root.Values.s3.tls.enabled .root.Values.s3.tls.caSecret }}
- name: s3-ca
  mountPath: /etc/vitseg/s3-ca
  readOnly: true
{{- end }}
{{- if and .kafka .root.Values.kafka.tls.enabled .root.Values.kafka.tls.caSecret }}
- name: kafka-ca
  mountPath: /etc/vitseg/kafka-ca
  readOnly: true
{{- end }}
{{- end }}

{{/* Pod security context: the image's non-root user, RuntimeDefault seccomp. */}}
{{- define "vitseg.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
fsGroup: 65532
fsGroupChangePolicy: OnRootMismatch
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "vitseg.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
privileged: false
capabilities:
  drop:
    - ALL
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/*
Resources of a workload with the GPU request added:
(dict "resources" .Values.serve.resources "gpu" .Values.serve.gpu)
*/}}
{{- define "vitseg.resources" -}}
{{- $res := deepCopy (default dict .resources) }}
{{- if .gpu.enabled }}
{{- $limits := default dict (get $res "limits") }}
{{- $_ := set $limits .gpu.resourceName (int64 .gpu.count) }}
{{- $_ := set $res "limits" $limits }}
{{- end }}
{{- toYaml $res }}
{{- end }}

{{/*
Scheduling of a workload: (dict "w" .Values.serve); merges the GPU node
selector and tolerations when the GPU is enabled.
*/}}
{{- define "vitseg.scheduling" -}}
{{- $nodeSelector := deepCopy (default dict .w.nodeSelector) }}
{{- $tolerations := default list .w.tolerations }}
{{- if .w.gpu.enabled }}
{{- $nodeSelector = merge $nodeSelector (default dict .w.gpu.nodeSelector) }}
{{- $tolerations = concat $tolerations (default list .w.gpu.tolerations) }}
{{- if .w.gpu.runtimeClassName }}
runtimeClassName: {{ .w.gpu.runtimeClassName }}
{{- end }}
{{- end }}
{{- with $nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .w.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .w.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- end }}

{{/*
Settings shared by serve and train, as VITSEG_* variables.
*/}}
{{- define "vitseg.commonConfig" -}}
VITSEG_LOG_LEVEL: {{ .Values.log.level | quote }}
VITSEG_LOG_FORMAT: {{ .Values.log.format | quote }}
VITSEG_S3_ENDPOINT: {{ .Values.s3.endpoint | quote }}
VITSEG_S3_REGION: {{ .Values.s3.region | quote }}
VITSEG_S3_TLS: {{ .Values.s3.tls.enabled | quote }}
{{- if and .Values.s3.tls.enabled .Values.s3.tls.caSecret }}
VITSEG_S3_CA_FILE: {{ include "vitseg.s3CAFile" . | quote }}
{{- end }}
VITSEG_REGISTRY_BUCKET: {{ .Values.registry.bucket | quote }}
VITSEG_MODEL_NAME: {{ .Values.registry.modelName | quote }}
{{- end }}

{{/* Checksum of the rendered configuration, to roll pods when it changes. */}}
{{- define "vitseg.configChecksum" -}}
{{- $files := list "configmap.yaml" "secret.yaml" }}
{{- $out := "" }}
{{- range $files }}
{{- $out = print $out (include (print $.Template.BasePath "/" .) $) }}
{{- end }}
{{- sha256sum $out }}
{{- end }}
