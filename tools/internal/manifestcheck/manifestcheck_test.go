package manifestcheck

import (
	"strings"
	"testing"
)

// validDeployment is a Deployment that passes every check; cases derive
// broken variants from it with strings.Replace.
const validDeployment = `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
spec:
  replicas: 2
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        - name: web
          image: example/web:1
          args: ["serve"]
          ports:
            - name: http
              containerPort: 8080
          envFrom:
            - configMapRef:
                name: web-config
          env:
            - name: SECRET_KEY
              valueFrom:
                secretKeyRef:
                  name: external
                  key: secret-key
          readinessProbe:
            httpGet:
              path: /readyz
              port: http
          resources:
            requests:
              cpu: 500m
              memory: 1Gi
            limits:
              memory: 2Gi
          volumeMounts:
            - name: tmp
              mountPath: /tmp
      volumes:
        - name: tmp
          emptyDir: {}
`

const validService = `
apiVersion: v1
kind: Service
metadata:
  name: web
  labels:
    app: web
spec:
  selector:
    app: web
  ports:
    - name: http
      port: 80
      targetPort: http
`

const validConfigMap = `
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
data:
  LOG_LEVEL: info
`

func stream(docs ...string) string { return strings.Join(docs, "\n---\n") }

func TestValidate(t *testing.T) {
	valid := stream(validDeployment, validService, validConfigMap)
	tests := []struct {
		name  string
		input string
		opts  Options
		// want lists substrings that must each appear in some problem; an
		// empty list means the input must be valid.
		want []string
	}{
		{name: "valid workload", input: valid},
		{name: "empty documents are skipped", input: "---\n# only a comment\n---\n" + valid},
		{
			name:  "unknown field",
			input: strings.Replace(valid, "  replicas: 2", "  replicas: 2\n  replica: 3", 1),
			want:  []string{`unknown field "spec.replica"`},
		},
		{
			name:  "field names are case-sensitive",
			input: strings.Replace(valid, "  replicas: 2", "  Replicas: 2", 1),
			want:  []string{`unknown field "spec.Replicas"`},
		},
		{
			name:  "wrong type",
			input: strings.Replace(valid, "replicas: 2", `replicas: "two"`, 1),
			want:  []string{"cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32"},
		},
		{
			name:  "invalid quantity",
			input: strings.Replace(valid, "memory: 2Gi", "memory: 2 GB", 1),
			want:  []string{"quantities must match"},
		},
		{
			name:  "duplicate YAML key",
			input: strings.Replace(valid, "  replicas: 2", "  replicas: 2\n  replicas: 3", 1),
			want:  []string{"invalid YAML"},
		},
		{
			name:  "unknown kind",
			input: stream(valid, "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n"),
			want:  []string{"unknown or unserved kind Widget"},
		},
		{
			name:  "removed API version",
			input: stream(valid, "apiVersion: policy/v1beta1\nkind: PodDisruptionBudget\nmetadata:\n  name: p\n"),
			want:  []string{"unknown or unserved kind PodDisruptionBudget"},
		},
		{
			name:  "missing kind",
			input: "apiVersion: v1\nmetadata:\n  name: x\n",
			want:  []string{"apiVersion and kind are required"},
		},
		{
			name:  "probe names a port the container lacks",
			input: strings.Replace(valid, "port: http\n", "port: metrics\n", 1),
			want:  []string{`no port named "metrics"`},
		},
		{
			name:  "selector does not match the template",
			input: strings.Replace(valid, "      labels:\n        app: web", "      labels:\n        app: other", 1),
			want:  []string{"spec.selector does not match", "selects no workload"},
		},
		{
			name:  "service target port is not a container port",
			input: strings.Replace(valid, "targetPort: http", "targetPort: grpc", 1),
			want:  []string{`targetPort "grpc" is not a named container port`},
		},
		{
			name:  "volume mount without a volume",
			input: strings.Replace(valid, "- name: tmp\n          emptyDir", "- name: scratch\n          emptyDir", 1),
			want:  []string{`volumeMounts[0].name "tmp": no such volume`},
		},
		{
			name:  "request above limit",
			input: strings.Replace(valid, "memory: 1Gi", "memory: 4Gi", 1),
			want:  []string{"requests.memory (4Gi) exceeds the limit (2Gi)"},
		},
		{
			name:  "extended resource only requested",
			input: strings.Replace(valid, "cpu: 500m", "cpu: 500m\n              nvidia.com/gpu: 1", 1),
			want:  []string{"limits.nvidia.com/gpu is required"},
		},
		{
			name:  "credential-like ConfigMap key",
			input: strings.Replace(valid, "LOG_LEVEL: info", "LOG_LEVEL: info\n  S3_SECRET_KEY: hunter2", 1),
			want:  []string{"data.S3_SECRET_KEY looks like a credential"},
		},
		{
			name:  "credential-like ConfigMap key allowed by option",
			input: strings.Replace(valid, "LOG_LEVEL: info", "LOG_LEVEL: info\n  S3_SECRET_KEY: hunter2", 1),
			opts:  Options{AllowSecretLikeConfig: true},
		},
		{
			name:  "ConfigMap reference not rendered",
			input: stream(validDeployment, validService),
			want:  []string{`ConfigMap "web-config" is referenced but not rendered`},
		},
		{
			name:  "key missing from a rendered Secret",
			input: stream(valid, "apiVersion: v1\nkind: Secret\nmetadata:\n  name: external\nstringData:\n  other: x\n"),
			want:  []string{`Secret "external" has no key "secret-key"`},
		},
		{
			name:  "duplicate object",
			input: stream(valid, validConfigMap),
			want:  []string{"duplicate of the object"},
		},
		{
			name:  "invalid name",
			input: strings.Replace(valid, "name: web-config\ndata", "name: Web_Config\ndata", 1),
			want:  []string{`metadata.name "Web_Config"`},
		},
		{
			name: "HPA without a target and scaling a Deployment that sets replicas",
			input: stream(valid, `
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: web
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 2
  maxReplicas: 4
  metrics:
    - type: Resource
      resource: {name: memory, target: {type: Utilization, averageUtilization: 80}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: ghost
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: ghost}
  maxReplicas: 1
`),
			want: []string{
				"spec.replicas is set while HorizontalPodAutoscaler/web scales it",
				"scale target Deployment/ghost is not in the rendered manifests",
			},
		},
		{
			name: "HPA utilization needs a request",
			input: stream(strings.Replace(valid, "  replicas: 2\n", "", 1), `
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: web
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  maxReplicas: 4
  metrics:
    - type: Resource
      resource: {name: ephemeral-storage, target: {type: Utilization, averageUtilization: 80}}
`),
			want: []string{"utilization of ephemeral-storage needs a ephemeral-storage request"},
		},
		{
			name: "valid KEDA ScaledObject with TriggerAuthentication",
			input: stream(strings.Replace(valid, "  replicas: 2\n", "", 1), `
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: web
spec:
  scaleTargetRef: {name: web}
  minReplicaCount: 0
  maxReplicaCount: 5
  triggers:
    - type: kafka
      metadata:
        bootstrapServers: kafka:9092
        consumerGroup: web
        topic: images
        lagThreshold: "50"
        sasl: scram_sha512
      authenticationRef: {name: web-kafka}
---
apiVersion: keda.sh/v1alpha1
kind: TriggerAuthentication
metadata:
  name: web-kafka
spec:
  secretTargetRef:
    - {parameter: username, name: kafka, key: username}
    - {parameter: password, name: kafka, key: password}
`),
		},
		{
			name: "KEDA kafka trigger problems",
			input: stream(strings.Replace(valid, "  replicas: 2\n", "", 1), `
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: web
spec:
  scaleTargetRef: {name: web}
  minReplicaCount: 3
  maxReplicaCount: 2
  triggers:
    - type: kafka
      metadata:
        bootstrapServers: kafka:9092
        topic: images
        lagThreshold: "fifty"
        lagTreshold: "50"
      authenticationRef: {name: missing}
`),
			want: []string{
				"minReplicaCount (3) <= maxReplicaCount (2)",
				"metadata.consumerGroup is required",
				`metadata.lagThreshold "fifty" is not a whole number`,
				"metadata.lagTreshold: not a kafka scaler parameter",
				`authenticationRef "missing" is not in the rendered manifests`,
			},
		},
		{
			name: "KEDA unknown field fails strict decoding",
			input: stream(strings.Replace(valid, "  replicas: 2\n", "", 1), `
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: web
spec:
  scaleTargetRef: {name: web}
  maxReplicas: 5
  triggers: [{type: cpu, metadata: {value: "50"}, metricType: Utilization}]
`),
			want: []string{`unknown field "spec.maxReplicas"`},
		},
		{
			name: "ServiceMonitor port not on the Service",
			input: stream(valid, `
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  endpoints:
    - port: metrics
      path: /metrics
      interval: 30s
`),
			want: []string{`port "metrics" is not a port name of Service web`},
		},
		{
			name: "valid CronJob",
			input: stream(validConfigMap, `
apiVersion: batch/v1
kind: CronJob
metadata:
  name: train
spec:
  schedule: "30 2 * * MON-FRI"
  timeZone: Europe/Berlin
  concurrencyPolicy: Forbid
  jobTemplate:
    spec:
      backoffLimit: 1
      activeDeadlineSeconds: 600
      template:
        spec:
          restartPolicy: Never
          containers:
            - name: train
              image: example/train:1
`),
		},
		{
			name: "CronJob problems",
			input: `
apiVersion: batch/v1
kind: CronJob
metadata:
  name: train
spec:
  schedule: "61 * * * *"
  timeZone: Mars/Olympus
  concurrencyPolicy: Sometimes
  jobTemplate:
    spec:
      activeDeadlineSeconds: 0
      template:
        spec:
          restartPolicy: Always
          containers:
            - name: train
              image: example/train:1
`,
			want: []string{
				"value 61 out of range 0-59",
				`spec.timeZone "Mars/Olympus"`,
				`unknown policy "Sometimes"`,
				"activeDeadlineSeconds must be positive",
				`requires Never or OnFailure, got "Always"`,
			},
		},
		{
			name: "PodDisruptionBudget with both bounds and no match",
			input: stream(valid, `
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: web
spec:
  minAvailable: 1
  maxUnavailable: 1
  selector:
    matchLabels: {app: nothing}
`),
			want: []string{"exactly one of minAvailable and maxUnavailable", "selects no workload"},
		},
		{
			name:  "privileged without escalation",
			input: strings.Replace(valid, "          volumeMounts:", "          securityContext:\n            privileged: true\n            allowPrivilegeEscalation: false\n          volumeMounts:", 1),
			want:  []string{"privileged requires allowPrivilegeEscalation"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs, problems, err := Validate(strings.NewReader(tt.input), "test.yaml", tt.opts)
			if err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if len(tt.want) == 0 {
				for _, p := range problems {
					t.Errorf("unexpected problem: %s", p)
				}
				if len(objs) == 0 {
					t.Error("no objects decoded")
				}
				return
			}
			for _, want := range tt.want {
				found := false
				for _, p := range problems {
					found = found || strings.Contains(p.String(), want)
				}
				if !found {
					t.Errorf("no problem contains %q; got:\n%s", want, joinProblems(problems))
				}
			}
		})
	}
}

func joinProblems(problems []Problem) string {
	var b strings.Builder
	for _, p := range problems {
		b.WriteString("  " + p.String() + "\n")
	}
	return b.String()
}

func TestDecodeNamesDocuments(t *testing.T) {
	input := "# Source: chart/templates/cm.yaml\n" + validConfigMap
	objs, problems, err := Decode(strings.NewReader(input), "render.yaml")
	if err != nil || len(problems) != 0 {
		t.Fatalf("Decode: %v %v", err, problems)
	}
	if len(objs) != 1 {
		t.Fatalf("got %d objects, want 1", len(objs))
	}
	if got, want := objs[0].Source, "render.yaml#0 (chart/templates/cm.yaml)"; got != want {
		t.Errorf("Source = %q, want %q", got, want)
	}
	if got, want := objs[0].Ref(), "ConfigMap/web-config"; got != want {
		t.Errorf("Ref = %q, want %q", got, want)
	}
}

func TestValidateCronSchedule(t *testing.T) {
	tests := []struct {
		schedule string
		wantErr  string
	}{
		{schedule: "0 3 * * 0"},
		{schedule: "*/15 0-6,22-23 1-31/2 JAN-DEC mon-fri"},
		{schedule: "@weekly"},
		{schedule: "0 3 * * 7"},
		{schedule: "", wantErr: "empty schedule"},
		{schedule: "0 3 * *", wantErr: "want 5 fields"},
		{schedule: "0 24 * * *", wantErr: "hour: value 24 out of range"},
		{schedule: "0 3 0 * *", wantErr: "day of month: value 0 out of range"},
		{schedule: "5-1 * * * *", wantErr: "runs backwards"},
		{schedule: "*/0 * * * *", wantErr: "bad step"},
		{schedule: "@every 1h", wantErr: "@every is not supported"},
		{schedule: "TZ=UTC 0 3 * * *", wantErr: "spec.timeZone"},
		{schedule: "0 3 * FOO *", wantErr: `bad value "FOO"`},
	}
	for _, tt := range tests {
		err := validateCronSchedule(tt.schedule)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("validateCronSchedule(%q) = %v, want nil", tt.schedule, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("validateCronSchedule(%q) = %v, want error containing %q", tt.schedule, err, tt.wantErr)
		}
	}
}
