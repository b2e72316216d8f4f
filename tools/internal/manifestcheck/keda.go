package manifestcheck

import (
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// The KEDA types below are a minimal typed copy of keda.sh/v1alpha1 from
// github.com/kedacore/keda/v2 v2.21.0 (apis/keda/v1alpha1), limited to the
// fields of ScaledObject and TriggerAuthentication (secret references) that a
// chart renders. Importing KEDA itself would pull its controller and webhook
// dependencies into the tools module. Fields not copied here fail strict
// decoding, which keeps a chart to the subset this checker understands.

var kedaGroupVersion = schema.GroupVersion{Group: "keda.sh", Version: "v1alpha1"}

// ScaledObject is keda.sh/v1alpha1 ScaledObject.
type ScaledObject struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec ScaledObjectSpec `json:"spec"`
}

// ScaledObjectSpec is the spec of a ScaledObject.
type ScaledObjectSpec struct {
	ScaleTargetRef        *ScaleTarget        `json:"scaleTargetRef"`
	PollingInterval       *int32              `json:"pollingInterval,omitempty"`
	InitialCooldownPeriod *int32              `json:"initialCooldownPeriod,omitempty"`
	CooldownPeriod        *int32              `json:"cooldownPeriod,omitempty"`
	IdleReplicaCount      *int32              `json:"idleReplicaCount,omitempty"`
	MinReplicaCount       *int32              `json:"minReplicaCount,omitempty"`
	MaxReplicaCount       *int32              `json:"maxReplicaCount,omitempty"`
	Advanced              *KEDAAdvancedConfig `json:"advanced,omitempty"`
	Triggers              []ScaleTrigger      `json:"triggers"`
	Fallback              *KEDAFallback       `json:"fallback,omitempty"`
}

// ScaleTarget names the workload a ScaledObject scales.
type ScaleTarget struct {
	Name                   string `json:"name"`
	APIVersion             string `json:"apiVersion,omitempty"`
	Kind                   string `json:"kind,omitempty"`
	EnvSourceContainerName string `json:"envSourceContainerName,omitempty"`
}

// KEDAAdvancedConfig is the advanced section of a ScaledObject.
type KEDAAdvancedConfig struct {
	HorizontalPodAutoscalerConfig *KEDAHPAConfig `json:"horizontalPodAutoscalerConfig,omitempty"`
	RestoreToOriginalReplicaCount bool           `json:"restoreToOriginalReplicaCount,omitempty"`
}

// KEDAHPAConfig configures the HPA that KEDA creates.
type KEDAHPAConfig struct {
	Behavior *autoscalingv2.HorizontalPodAutoscalerBehavior `json:"behavior,omitempty"`
	Name     string                                         `json:"name,omitempty"`
}

// KEDAFallback is the replica count used while a scaler fails.
type KEDAFallback struct {
	FailureThreshold int32  `json:"failureThreshold"`
	Replicas         int32  `json:"replicas"`
	Behavior         string `json:"behavior,omitempty"`
}

// ScaleTrigger is one scaler of a ScaledObject.
type ScaleTrigger struct {
	Type              string                         `json:"type"`
	Name              string                         `json:"name,omitempty"`
	UseCachedMetrics  bool                           `json:"useCachedMetrics,omitempty"`
	Metadata          map[string]string              `json:"metadata"`
	AuthenticationRef *KEDAAuthenticationRef         `json:"authenticationRef,omitempty"`
	MetricType        autoscalingv2.MetricTargetType `json:"metricType,omitempty"`
}

// KEDAAuthenticationRef points at a (Cluster)TriggerAuthentication.
type KEDAAuthenticationRef struct {
	Name string `json:"name"`
	Kind string `json:"kind,omitempty"`
}

// TriggerAuthentication is keda.sh/v1alpha1 TriggerAuthentication, limited to
// secret and environment references.
type TriggerAuthentication struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec TriggerAuthenticationSpec `json:"spec"`
}

// TriggerAuthenticationSpec is the spec of a TriggerAuthentication.
type TriggerAuthenticationSpec struct {
	SecretTargetRef    []KEDATargetRef   `json:"secretTargetRef,omitempty"`
	ConfigMapTargetRef []KEDATargetRef   `json:"configMapTargetRef,omitempty"`
	Env                []KEDAEnvironment `json:"env,omitempty"`
}

// KEDATargetRef maps a scaler parameter to a key of a Secret or ConfigMap.
type KEDATargetRef struct {
	Parameter string `json:"parameter"`
	Name      string `json:"name"`
	Key       string `json:"key"`
}

// KEDAEnvironment maps a scaler parameter to an environment variable of the
// scale target's container.
type KEDAEnvironment struct {
	Parameter     string `json:"parameter"`
	Name          string `json:"name"`
	ContainerName string `json:"containerName,omitempty"`
}

// kafkaTriggerMetadata lists the metadata keys of KEDA's kafka scaler
// (pkg/scalers/kafka_scaler.go, v2.21.0) and whether each is required.
var kafkaTriggerMetadata = map[string]bool{
	"bootstrapServers":                   true,
	"consumerGroup":                      true,
	"topic":                              false,
	"partitionLimitation":                false,
	"lagThreshold":                       false,
	"activationLagThreshold":             false,
	"offsetResetPolicy":                  false,
	"allowIdleConsumers":                 false,
	"excludePersistentLag":               false,
	"scaleToZeroOnInvalidOffset":         false,
	"limitToPartitionsWithLag":           false,
	"ensureEvenDistributionOfPartitions": false,
	"fullMetadata":                       false,
	"version":                            false,
	"tls":                                false,
	"unsafeSsl":                          false,
	"sasl":                               false,
	"saslTokenProvider":                  false,
	"awsRegion":                          false,
}

// kafkaAuthParams lists the parameters KEDA's kafka scaler reads from a
// TriggerAuthentication.
var kafkaAuthParams = map[string]bool{
	"tls": true, "ca": true, "cert": true, "key": true, "keyPassword": true,
	"sasl": true, "username": true, "password": true, "saslTokenProvider": true,
	"scopes": true, "oauthTokenEndpointUri": true, "oauthExtensions": true,
	"keytab": true, "ccacheName": true, "realm": true, "kerberosConfig": true,
	"kerberosServiceName": true, "kerberosDisableFAST": true,
}
