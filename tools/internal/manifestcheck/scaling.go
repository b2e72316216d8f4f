package manifestcheck

import (
	"regexp"
	"slices"
	"strings"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func (c *checker) checkPDB(obj Object, pdb *policyv1.PodDisruptionBudget) {
	if (pdb.Spec.MinAvailable == nil) == (pdb.Spec.MaxUnavailable == nil) {
		c.add(obj, "spec: set exactly one of minAvailable and maxUnavailable")
	}
	c.checkSelector(obj, pdb.Spec.Selector, field.NewPath("spec", "selector"))
}

func (c *checker) checkHPA(obj Object, hpa *autoscalingv2.HorizontalPodAutoscaler) {
	if hpa.Spec.ScaleTargetRef.Kind == "" || hpa.Spec.ScaleTargetRef.Name == "" {
		c.add(obj, "spec.scaleTargetRef: kind and name are required")
	}
	minReplicas := int32(1)
	if hpa.Spec.MinReplicas != nil {
		minReplicas = *hpa.Spec.MinReplicas
	}
	if minReplicas < 1 {
		c.add(obj, "spec.minReplicas must be at least 1")
	}
	if hpa.Spec.MaxReplicas < minReplicas {
		c.add(obj, "spec.maxReplicas (%d) must not be below minReplicas (%d)", hpa.Spec.MaxReplicas, minReplicas)
	}
	for i, metric := range hpa.Spec.Metrics {
		path := field.NewPath("spec", "metrics").Index(i)
		switch metric.Type {
		case autoscalingv2.ResourceMetricSourceType:
			if metric.Resource == nil {
				c.add(obj, "%s.resource is required for type Resource", path)
			}
		case autoscalingv2.PodsMetricSourceType, autoscalingv2.ObjectMetricSourceType,
			autoscalingv2.ExternalMetricSourceType, autoscalingv2.ContainerResourceMetricSourceType:
		default:
			c.add(obj, "%s.type: unknown metric type %q", path, metric.Type)
		}
	}
}

// wholeNumber matches a non-negative decimal integer.
var wholeNumber = regexp.MustCompile(`^[0-9]+$`)

// promDuration is the duration syntax of the prometheus-operator API.
var promDuration = regexp.MustCompile(`^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$`)

func (c *checker) checkServiceMonitor(obj Object, sm *monitoringv1.ServiceMonitor) {
	if len(sm.Spec.Endpoints) == 0 {
		c.add(obj, "spec.endpoints: at least one endpoint is required")
	}
	for i, ep := range sm.Spec.Endpoints {
		path := field.NewPath("spec", "endpoints").Index(i)
		if ep.Port == "" && ep.TargetPort == nil {
			c.add(obj, "%s: port or targetPort is required", path)
		}
		if ep.Path != "" && !strings.HasPrefix(ep.Path, "/") {
			c.add(obj, "%s.path %q must start with /", path, ep.Path)
		}
		for name, d := range map[string]monitoringv1.Duration{"interval": ep.Interval, "scrapeTimeout": ep.ScrapeTimeout} {
			if d != "" && !promDuration.MatchString(string(d)) {
				c.add(obj, "%s.%s %q is not a duration", path, name, d)
			}
		}
	}
	c.checkSelector(obj, &sm.Spec.Selector, field.NewPath("spec", "selector"))
}

func (c *checker) checkScaledObject(obj Object, so *ScaledObject) {
	if so.Spec.ScaleTargetRef == nil || so.Spec.ScaleTargetRef.Name == "" {
		c.add(obj, "spec.scaleTargetRef.name is required")
	}
	minReplicas, maxReplicas := int32(0), int32(100) // KEDA's defaults
	if so.Spec.MinReplicaCount != nil {
		minReplicas = *so.Spec.MinReplicaCount
	}
	if so.Spec.MaxReplicaCount != nil {
		maxReplicas = *so.Spec.MaxReplicaCount
	}
	if minReplicas < 0 || maxReplicas < minReplicas {
		c.add(obj, "spec: need 0 <= minReplicaCount (%d) <= maxReplicaCount (%d)", minReplicas, maxReplicas)
	}
	if idle := so.Spec.IdleReplicaCount; idle != nil && *idle >= minReplicas {
		c.add(obj, "spec.idleReplicaCount must be below minReplicaCount")
	}
	if len(so.Spec.Triggers) == 0 {
		c.add(obj, "spec.triggers: at least one trigger is required")
	}
	for i, trigger := range so.Spec.Triggers {
		path := field.NewPath("spec", "triggers").Index(i)
		if trigger.Type == "" {
			c.add(obj, "%s.type is required", path)
		}
		switch trigger.MetricType {
		case "", autoscalingv2.AverageValueMetricType, autoscalingv2.ValueMetricType, autoscalingv2.UtilizationMetricType:
		default:
			c.add(obj, "%s.metricType: unknown type %q", path, trigger.MetricType)
		}
		if trigger.Type == "kafka" {
			c.checkKafkaTrigger(obj, trigger, path)
		}
	}
}

func (c *checker) checkKafkaTrigger(obj Object, trigger ScaleTrigger, path *field.Path) {
	for key, value := range trigger.Metadata {
		if _, known := kafkaTriggerMetadata[key]; !known {
			c.add(obj, "%s.metadata.%s: not a kafka scaler parameter", path, key)
		}
		if value == "" {
			c.add(obj, "%s.metadata.%s is empty", path, key)
		}
	}
	for key, required := range kafkaTriggerMetadata {
		if _, ok := trigger.Metadata[key]; required && !ok {
			c.add(obj, "%s.metadata.%s is required by the kafka scaler", path, key)
		}
	}
	for _, key := range []string{"lagThreshold", "activationLagThreshold"} {
		if v, ok := trigger.Metadata[key]; ok && !wholeNumber.MatchString(v) {
			c.add(obj, "%s.metadata.%s %q is not a whole number", path, key, v)
		}
	}
	if v, ok := trigger.Metadata["offsetResetPolicy"]; ok && v != "latest" && v != "earliest" {
		c.add(obj, "%s.metadata.offsetResetPolicy %q: want latest or earliest", path, v)
	}
	if v, ok := trigger.Metadata["sasl"]; ok && !slices.Contains([]string{"none", "plaintext", "scram_sha256", "scram_sha512", "oauthbearer", "gssapi"}, v) {
		c.add(obj, "%s.metadata.sasl %q is not a kafka scaler SASL mode", path, v)
	}
	if v, ok := trigger.Metadata["tls"]; ok && v != "enable" && v != "disable" {
		c.add(obj, "%s.metadata.tls %q: want enable or disable", path, v)
	}
}
