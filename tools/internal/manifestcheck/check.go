package manifestcheck

import (
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // CronJob time zones are checked without the host's zoneinfo

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Options selects the policy checks that go beyond what the API server
// enforces.
type Options struct {
	// AllowSecretLikeConfig turns off the check that ConfigMap keys do not look
	// like credentials (SECRET, PASSWORD, TOKEN, ACCESS_KEY, CREDENTIAL).
	AllowSecretLikeConfig bool
}

// Validate decodes a manifest stream and checks it; it returns the decoded
// objects and every problem found.
func Validate(r io.Reader, source string, opts Options) ([]Object, []Problem, error) {
	objs, problems, err := Decode(r, source)
	if err != nil {
		return nil, nil, err
	}
	return objs, append(problems, Check(objs, opts)...), nil
}

// Check validates decoded objects one by one and against each other.
func Check(objs []Object, opts Options) []Problem {
	c := &checker{objs: objs, opts: opts}
	c.checkDuplicates()
	for _, obj := range objs {
		c.checkObject(obj)
	}
	c.checkReferences()
	return c.problems
}

type checker struct {
	objs     []Object
	opts     Options
	problems []Problem
}

func (c *checker) add(obj Object, format string, args ...any) {
	c.problems = append(c.problems, Problem{Source: obj.Source, Object: obj.Ref(), Message: fmt.Sprintf(format, args...)})
}

func (c *checker) addFieldErrors(obj Object, errs field.ErrorList) {
	for _, err := range errs {
		c.add(obj, "%s", err.Error())
	}
}

func (c *checker) checkDuplicates() {
	seen := map[string]Object{}
	for _, obj := range c.objs {
		key := obj.GVK.GroupKind().String() + "/" + obj.Namespace + "/" + obj.Name
		if first, ok := seen[key]; ok {
			c.add(obj, "duplicate of the object in %s", first.Source)
			continue
		}
		seen[key] = obj
	}
}

func (c *checker) checkObject(obj Object) {
	c.checkMetadata(obj)
	switch typed := obj.Typed.(type) {
	case *appsv1.Deployment:
		c.checkDeployment(obj, typed)
	case *batchv1.CronJob:
		c.checkCronJob(obj, typed)
	case *batchv1.Job:
		c.checkJobSpec(obj, &typed.Spec, field.NewPath("spec"))
	case *corev1.Service:
		c.checkService(obj, typed)
	case *corev1.ConfigMap:
		c.checkConfigMap(obj, typed)
	case *corev1.Secret:
		for key := range typed.Data {
			c.checkDataKey(obj, key)
		}
		for key := range typed.StringData {
			c.checkDataKey(obj, key)
		}
	case *corev1.PersistentVolumeClaim:
		if len(typed.Spec.AccessModes) == 0 {
			c.add(obj, "spec.accessModes: at least one access mode is required")
		}
		if _, ok := typed.Spec.Resources.Requests[corev1.ResourceStorage]; !ok && typed.Spec.VolumeName == "" {
			c.add(obj, "spec.resources.requests.storage is required")
		}
	case *policyv1.PodDisruptionBudget:
		c.checkPDB(obj, typed)
	case *autoscalingv2.HorizontalPodAutoscaler:
		c.checkHPA(obj, typed)
	case *monitoringv1.ServiceMonitor:
		c.checkServiceMonitor(obj, typed)
	case *ScaledObject:
		c.checkScaledObject(obj, typed)
	case *TriggerAuthentication:
		for i, ref := range typed.Spec.SecretTargetRef {
			if ref.Parameter == "" || ref.Name == "" || ref.Key == "" {
				c.add(obj, "spec.secretTargetRef[%d]: parameter, name and key are required", i)
			}
		}
	}
	if path, tmpl := podTemplate(obj); tmpl != nil {
		c.checkPodTemplate(obj, tmpl, path)
	}
}

func (c *checker) checkMetadata(obj Object) {
	if obj.Name == "" {
		c.add(obj, "metadata.name is required")
		return
	}
	var msgs []string
	switch obj.GVK.Kind {
	case "Service":
		msgs = validation.IsDNS1035Label(obj.Name)
	case "CronJob":
		msgs = validation.IsDNS1123Subdomain(obj.Name)
		if len(obj.Name) > 52 {
			msgs = append(msgs, "must be no more than 52 characters (the controller appends a suffix for each Job)")
		}
	default:
		msgs = validation.IsDNS1123Subdomain(obj.Name)
	}
	for _, msg := range msgs {
		c.add(obj, "metadata.name %q: %s", obj.Name, msg)
	}
	if obj.Namespace != "" {
		for _, msg := range validation.IsDNS1123Label(obj.Namespace) {
			c.add(obj, "metadata.namespace %q: %s", obj.Namespace, msg)
		}
	}
	if accessor, ok := obj.Typed.(metav1.Object); ok {
		c.addFieldErrors(obj, metavalidation.ValidateLabels(accessor.GetLabels(), field.NewPath("metadata", "labels")))
		c.addFieldErrors(obj, apivalidation.ValidateAnnotations(accessor.GetAnnotations(), field.NewPath("metadata", "annotations")))
	}
}

// podTemplate returns the pod template of a workload object.
func podTemplate(obj Object) (*field.Path, *corev1.PodTemplateSpec) {
	switch typed := obj.Typed.(type) {
	case *appsv1.Deployment:
		return field.NewPath("spec", "template"), &typed.Spec.Template
	case *appsv1.StatefulSet:
		return field.NewPath("spec", "template"), &typed.Spec.Template
	case *appsv1.DaemonSet:
		return field.NewPath("spec", "template"), &typed.Spec.Template
	case *batchv1.Job:
		return field.NewPath("spec", "template"), &typed.Spec.Template
	case *batchv1.CronJob:
		return field.NewPath("spec", "jobTemplate", "spec", "template"), &typed.Spec.JobTemplate.Spec.Template
	}
	return nil, nil
}

func (c *checker) checkSelector(obj Object, sel *metav1.LabelSelector, path *field.Path) labels.Selector {
	if sel == nil || (len(sel.MatchLabels) == 0 && len(sel.MatchExpressions) == 0) {
		c.add(obj, "%s: a non-empty selector is required", path)
		return nil
	}
	c.addFieldErrors(obj, metavalidation.ValidateLabelSelector(sel, metavalidation.LabelSelectorValidationOptions{}, path))
	selector, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		c.add(obj, "%s: %v", path, err)
		return nil
	}
	return selector
}

func (c *checker) checkDeployment(obj Object, d *appsv1.Deployment) {
	if d.Spec.Replicas != nil && *d.Spec.Replicas < 0 {
		c.add(obj, "spec.replicas must not be negative")
	}
	if selector := c.checkSelector(obj, d.Spec.Selector, field.NewPath("spec", "selector")); selector != nil {
		if !selector.Matches(labels.Set(d.Spec.Template.Labels)) {
			c.add(obj, "spec.selector does not match spec.template.metadata.labels")
		}
	}
	if rp := d.Spec.Template.Spec.RestartPolicy; rp != "" && rp != corev1.RestartPolicyAlways {
		c.add(obj, "spec.template.spec.restartPolicy: a Deployment only allows Always, got %s", rp)
	}
	switch d.Spec.Strategy.Type {
	case "", appsv1.RollingUpdateDeploymentStrategyType:
	case appsv1.RecreateDeploymentStrategyType:
		if d.Spec.Strategy.RollingUpdate != nil {
			c.add(obj, "spec.strategy.rollingUpdate is not allowed with type Recreate")
		}
	default:
		c.add(obj, "spec.strategy.type: unknown strategy %q", d.Spec.Strategy.Type)
	}
}

func (c *checker) checkCronJob(obj Object, cj *batchv1.CronJob) {
	if err := validateCronSchedule(cj.Spec.Schedule); err != nil {
		c.add(obj, "spec.schedule: %v", err)
	}
	if tz := cj.Spec.TimeZone; tz != nil {
		if _, err := time.LoadLocation(*tz); err != nil || *tz == "" || strings.EqualFold(*tz, "local") {
			c.add(obj, "spec.timeZone %q is not a valid IANA time zone", *tz)
		}
	}
	switch cj.Spec.ConcurrencyPolicy {
	case "", batchv1.AllowConcurrent, batchv1.ForbidConcurrent, batchv1.ReplaceConcurrent:
	default:
		c.add(obj, "spec.concurrencyPolicy: unknown policy %q", cj.Spec.ConcurrencyPolicy)
	}
	for name, limit := range map[string]*int32{
		"successfulJobsHistoryLimit": cj.Spec.SuccessfulJobsHistoryLimit,
		"failedJobsHistoryLimit":     cj.Spec.FailedJobsHistoryLimit,
	} {
		if limit != nil && *limit < 0 {
			c.add(obj, "spec.%s must not be negative", name)
		}
	}
	if d := cj.Spec.StartingDeadlineSeconds; d != nil && *d < 0 {
		c.add(obj, "spec.startingDeadlineSeconds must not be negative")
	}
	c.checkJobSpec(obj, &cj.Spec.JobTemplate.Spec, field.NewPath("spec", "jobTemplate", "spec"))
}

func (c *checker) checkJobSpec(obj Object, spec *batchv1.JobSpec, path *field.Path) {
	if spec.Selector != nil && (spec.ManualSelector == nil || !*spec.ManualSelector) {
		c.add(obj, "%s: selector is generated; set it only with manualSelector", path.Child("selector"))
	}
	if spec.BackoffLimit != nil && *spec.BackoffLimit < 0 {
		c.add(obj, "%s must not be negative", path.Child("backoffLimit"))
	}
	if spec.ActiveDeadlineSeconds != nil && *spec.ActiveDeadlineSeconds <= 0 {
		c.add(obj, "%s must be positive", path.Child("activeDeadlineSeconds"))
	}
	if spec.TTLSecondsAfterFinished != nil && *spec.TTLSecondsAfterFinished < 0 {
		c.add(obj, "%s must not be negative", path.Child("ttlSecondsAfterFinished"))
	}
	switch rp := spec.Template.Spec.RestartPolicy; rp {
	case corev1.RestartPolicyNever, corev1.RestartPolicyOnFailure:
	default:
		c.add(obj, "%s: a Job requires Never or OnFailure, got %q", path.Child("template", "spec", "restartPolicy"), rp)
	}
}

func (c *checker) checkService(obj Object, svc *corev1.Service) {
	switch svc.Spec.Type {
	case "", corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort, corev1.ServiceTypeLoadBalancer, corev1.ServiceTypeExternalName:
	default:
		c.add(obj, "spec.type: unknown type %q", svc.Spec.Type)
	}
	if svc.Spec.Type != corev1.ServiceTypeExternalName && len(svc.Spec.Ports) == 0 && svc.Spec.ClusterIP != corev1.ClusterIPNone {
		c.add(obj, "spec.ports: at least one port is required")
	}
	names := map[string]bool{}
	for i, port := range svc.Spec.Ports {
		path := field.NewPath("spec", "ports").Index(i)
		if len(svc.Spec.Ports) > 1 && port.Name == "" {
			c.add(obj, "%s.name is required when a Service has more than one port", path)
		}
		if port.Name != "" {
			for _, msg := range validation.IsDNS1123Label(port.Name) {
				c.add(obj, "%s.name %q: %s", path, port.Name, msg)
			}
			if names[port.Name] {
				c.add(obj, "%s.name %q is not unique", path, port.Name)
			}
			names[port.Name] = true
		}
		for _, msg := range validation.IsValidPortNum(int(port.Port)) {
			c.add(obj, "%s.port: %s", path, msg)
		}
		c.checkTargetPort(obj, port.TargetPort, path.Child("targetPort"))
		c.checkProtocol(obj, port.Protocol, path.Child("protocol"))
	}
	c.addFieldErrors(obj, metavalidation.ValidateLabels(svc.Spec.Selector, field.NewPath("spec", "selector")))
}

func (c *checker) checkTargetPort(obj Object, port intstr.IntOrString, path *field.Path) {
	switch {
	case port.Type == intstr.String && port.StrVal != "":
		for _, msg := range validation.IsValidPortName(port.StrVal) {
			c.add(obj, "%s %q: %s", path, port.StrVal, msg)
		}
	case port.Type == intstr.Int && port.IntVal != 0:
		for _, msg := range validation.IsValidPortNum(int(port.IntVal)) {
			c.add(obj, "%s: %s", path, msg)
		}
	}
}

func (c *checker) checkProtocol(obj Object, protocol corev1.Protocol, path *field.Path) {
	switch protocol {
	case "", corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP:
	default:
		c.add(obj, "%s: unknown protocol %q", path, protocol)
	}
}

// secretLikeKey matches configuration keys that name credentials.
var secretLikeKey = regexp.MustCompile(`(?i)(secret|password|passwd|token|access_?key|credential|private_?key)`)

// secretFileKey matches keys that only name where a credential is read from.
var secretFileKey = regexp.MustCompile(`(?i)_FILE$`)

func (c *checker) checkConfigMap(obj Object, cm *corev1.ConfigMap) {
	for key := range cm.Data {
		c.checkDataKey(obj, key)
		if !c.opts.AllowSecretLikeConfig && secretLikeKey.MatchString(key) && !secretFileKey.MatchString(key) {
			c.add(obj, "data.%s looks like a credential; credentials belong in a Secret", key)
		}
	}
	for key := range cm.BinaryData {
		c.checkDataKey(obj, key)
	}
}

func (c *checker) checkDataKey(obj Object, key string) {
	for _, msg := range validation.IsConfigMapKey(key) {
		c.add(obj, "data key %q: %s", key, msg)
	}
}

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

func (c *checker) checkPodTemplate(obj Object, tmpl *corev1.PodTemplateSpec, path *field.Path) {
	c.addFieldErrors(obj, metavalidation.ValidateLabels(tmpl.Labels, path.Child("metadata", "labels")))
	c.addFieldErrors(obj, apivalidation.ValidateAnnotations(tmpl.Annotations, path.Child("metadata", "annotations")))
	spec := &tmpl.Spec
	specPath := path.Child("spec")
	if len(spec.Containers) == 0 {
		c.add(obj, "%s: at least one container is required", specPath.Child("containers"))
	}
	volumes := map[string]bool{}
	for i, vol := range spec.Volumes {
		volPath := specPath.Child("volumes").Index(i)
		for _, msg := range validation.IsDNS1123Label(vol.Name) {
			c.add(obj, "%s.name %q: %s", volPath, vol.Name, msg)
		}
		if volumes[vol.Name] {
			c.add(obj, "%s.name %q is not unique", volPath, vol.Name)
		}
		volumes[vol.Name] = true
		if n := countSetFields(vol.VolumeSource); n != 1 {
			c.add(obj, "%s: exactly one volume source is required, got %d", volPath, n)
		}
	}
	if spec.ServiceAccountName != "" {
		for _, msg := range validation.IsDNS1123Subdomain(spec.ServiceAccountName) {
			c.add(obj, "%s.serviceAccountName: %s", specPath, msg)
		}
	}
	if spec.TerminationGracePeriodSeconds != nil && *spec.TerminationGracePeriodSeconds < 0 {
		c.add(obj, "%s.terminationGracePeriodSeconds must not be negative", specPath)
	}
	c.addFieldErrors(obj, metavalidation.ValidateLabels(spec.NodeSelector, specPath.Child("nodeSelector")))
	for i, tol := range spec.Tolerations {
		c.checkToleration(obj, tol, specPath.Child("tolerations").Index(i))
	}
	if sc := spec.SecurityContext; sc != nil {
		c.checkSeccomp(obj, sc.SeccompProfile, specPath.Child("securityContext", "seccompProfile"))
		if sc.RunAsNonRoot != nil && *sc.RunAsNonRoot && sc.RunAsUser != nil && *sc.RunAsUser == 0 {
			c.add(obj, "%s.securityContext: runAsNonRoot with runAsUser 0 can never start", specPath)
		}
	}
	names := map[string]bool{}
	for kind, containers := range map[string][]corev1.Container{"initContainers": spec.InitContainers, "containers": spec.Containers} {
		for i := range containers {
			ctr := &containers[i]
			if names[ctr.Name] {
				c.add(obj, "%s.name %q is not unique in the pod", specPath.Child(kind).Index(i), ctr.Name)
			}
			names[ctr.Name] = true
			c.checkContainer(obj, ctr, volumes, specPath.Child(kind).Index(i), kind == "initContainers")
		}
	}
}

func (c *checker) checkToleration(obj Object, tol corev1.Toleration, path *field.Path) {
	switch tol.Operator {
	case "", corev1.TolerationOpEqual:
	case corev1.TolerationOpExists:
		if tol.Value != "" {
			c.add(obj, "%s.value must be empty with operator Exists", path)
		}
	default:
		c.add(obj, "%s.operator: unknown operator %q", path, tol.Operator)
	}
	switch tol.Effect {
	case "", corev1.TaintEffectNoSchedule, corev1.TaintEffectPreferNoSchedule, corev1.TaintEffectNoExecute:
	default:
		c.add(obj, "%s.effect: unknown effect %q", path, tol.Effect)
	}
	if tol.Key == "" && tol.Operator != corev1.TolerationOpExists {
		c.add(obj, "%s: an empty key requires operator Exists", path)
	}
}

func (c *checker) checkSeccomp(obj Object, profile *corev1.SeccompProfile, path *field.Path) {
	if profile == nil {
		return
	}
	switch profile.Type {
	case corev1.SeccompProfileTypeRuntimeDefault, corev1.SeccompProfileTypeUnconfined:
		if profile.LocalhostProfile != nil {
			c.add(obj, "%s.localhostProfile is only allowed with type Localhost", path)
		}
	case corev1.SeccompProfileTypeLocalhost:
		if profile.LocalhostProfile == nil || *profile.LocalhostProfile == "" {
			c.add(obj, "%s.localhostProfile is required with type Localhost", path)
		}
	default:
		c.add(obj, "%s.type: unknown type %q", path, profile.Type)
	}
}

func (c *checker) checkContainer(obj Object, ctr *corev1.Container, volumes map[string]bool, path *field.Path, isInit bool) {
	for _, msg := range validation.IsDNS1123Label(ctr.Name) {
		c.add(obj, "%s.name %q: %s", path, ctr.Name, msg)
	}
	if strings.TrimSpace(ctr.Image) == "" {
		c.add(obj, "%s.image is required", path)
	}
	switch ctr.ImagePullPolicy {
	case "", corev1.PullAlways, corev1.PullIfNotPresent, corev1.PullNever:
	default:
		c.add(obj, "%s.imagePullPolicy: unknown policy %q", path, ctr.ImagePullPolicy)
	}
	portNames := c.checkPorts(obj, ctr.Ports, path.Child("ports"))
	for i, env := range ctr.Env {
		c.checkEnvVar(obj, env, path.Child("env").Index(i))
	}
	c.checkEnvFrom(obj, ctr.EnvFrom, path.Child("envFrom"))
	c.checkVolumeMounts(obj, ctr.VolumeMounts, volumes, path.Child("volumeMounts"))
	c.checkContainerProbes(obj, ctr, portNames, path, isInit)
	c.checkResources(obj, ctr.Resources, path.Child("resources"))
	if ctr.SecurityContext != nil {
		c.checkSecurityContext(obj, ctr.SecurityContext, path.Child("securityContext"))
	}
}

// checkPorts checks a container's ports and returns the names they declare.
func (c *checker) checkPorts(obj Object, ports []corev1.ContainerPort, path *field.Path) map[string]bool {
	names := map[string]bool{}
	for i, port := range ports {
		portPath := path.Index(i)
		for _, msg := range validation.IsValidPortNum(int(port.ContainerPort)) {
			c.add(obj, "%s.containerPort: %s", portPath, msg)
		}
		if port.Name != "" {
			for _, msg := range validation.IsValidPortName(port.Name) {
				c.add(obj, "%s.name %q: %s", portPath, port.Name, msg)
			}
			if names[port.Name] {
				c.add(obj, "%s.name %q is not unique", portPath, port.Name)
			}
			names[port.Name] = true
		}
		c.checkProtocol(obj, port.Protocol, portPath.Child("protocol"))
	}
	return names
}

// checkEnvFrom checks that each envFrom source names exactly one ConfigMap or Secret.
func (c *checker) checkEnvFrom(obj Object, sources []corev1.EnvFromSource, path *field.Path) {
	for i, from := range sources {
		fromPath := path.Index(i)
		switch {
		case (from.ConfigMapRef == nil) == (from.SecretRef == nil):
			c.add(obj, "%s: set exactly one of configMapRef and secretRef", fromPath)
		case from.ConfigMapRef != nil && from.ConfigMapRef.Name == "":
			c.add(obj, "%s.configMapRef.name is required", fromPath)
		case from.SecretRef != nil && from.SecretRef.Name == "":
			c.add(obj, "%s.secretRef.name is required", fromPath)
		}
	}
}

// checkVolumeMounts checks that each mount names a volume of the pod and an absolute path mounted once.
func (c *checker) checkVolumeMounts(obj Object, mounts []corev1.VolumeMount, volumes map[string]bool, path *field.Path) {
	mountPaths := map[string]bool{}
	for i, mount := range mounts {
		mountPath := path.Index(i)
		if !volumes[mount.Name] {
			c.add(obj, "%s.name %q: no such volume in the pod", mountPath, mount.Name)
		}
		if !strings.HasPrefix(mount.MountPath, "/") {
			c.add(obj, "%s.mountPath %q must be absolute", mountPath, mount.MountPath)
		}
		if mountPaths[mount.MountPath] {
			c.add(obj, "%s.mountPath %q is mounted twice", mountPath, mount.MountPath)
		}
		mountPaths[mount.MountPath] = true
	}
}

// checkContainerProbes checks the liveness, readiness and startup probes, which init containers may not have.
func (c *checker) checkContainerProbes(obj Object, ctr *corev1.Container, portNames map[string]bool, path *field.Path, isInit bool) {
	probes := map[string]*corev1.Probe{"livenessProbe": ctr.LivenessProbe, "readinessProbe": ctr.ReadinessProbe, "startupProbe": ctr.StartupProbe}
	for name, probe := range probes {
		if probe == nil {
			continue
		}
		if isInit {
			c.add(obj, "%s.%s is not allowed on an init container", path, name)
		}
		c.checkProbe(obj, probe, portNames, path.Child(name), name != "readinessProbe")
	}
}

// checkSecurityContext checks a container's security context for settings that contradict each other.
func (c *checker) checkSecurityContext(obj Object, sc *corev1.SecurityContext, path *field.Path) {
	c.checkSeccomp(obj, sc.SeccompProfile, path.Child("seccompProfile"))
	noEscalation := sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation
	if noEscalation && sc.Privileged != nil && *sc.Privileged {
		c.add(obj, "%s: privileged requires allowPrivilegeEscalation", path)
	}
	if noEscalation && sc.Capabilities != nil && slices.Contains(sc.Capabilities.Add, "SYS_ADMIN") {
		c.add(obj, "%s: CAP_SYS_ADMIN requires allowPrivilegeEscalation", path)
	}
	if sc.RunAsNonRoot != nil && *sc.RunAsNonRoot && sc.RunAsUser != nil && *sc.RunAsUser == 0 {
		c.add(obj, "%s: runAsNonRoot with runAsUser 0 can never start", path)
	}
}

func (c *checker) checkEnvVar(obj Object, env corev1.EnvVar, path *field.Path) {
	for _, msg := range validation.IsEnvVarName(env.Name) {
		c.add(obj, "%s.name %q: %s", path, env.Name, msg)
	}
	if env.ValueFrom == nil {
		return
	}
	if env.Value != "" {
		c.add(obj, "%s: value and valueFrom are mutually exclusive", path)
	}
	if n := countSetFields(*env.ValueFrom); n != 1 {
		c.add(obj, "%s.valueFrom: exactly one source is required, got %d", path, n)
	}
	if ref := env.ValueFrom.SecretKeyRef; ref != nil {
		if ref.Name == "" || ref.Key == "" {
			c.add(obj, "%s.valueFrom.secretKeyRef: name and key are required", path)
		}
		for _, msg := range validation.IsConfigMapKey(ref.Key) {
			c.add(obj, "%s.valueFrom.secretKeyRef.key %q: %s", path, ref.Key, msg)
		}
	}
	if ref := env.ValueFrom.ConfigMapKeyRef; ref != nil {
		if ref.Name == "" || ref.Key == "" {
			c.add(obj, "%s.valueFrom.configMapKeyRef: name and key are required", path)
		}
	}
	if ref := env.ValueFrom.FieldRef; ref != nil && ref.FieldPath == "" {
		c.add(obj, "%s.valueFrom.fieldRef.fieldPath is required", path)
	}
}

func (c *checker) checkProbe(obj Object, probe *corev1.Probe, portNames map[string]bool, path *field.Path, singleSuccess bool) {
	if n := countSetFields(probe.ProbeHandler); n != 1 {
		c.add(obj, "%s: exactly one handler is required, got %d", path, n)
	}
	if get := probe.HTTPGet; get != nil {
		c.checkProbePort(obj, get.Port, portNames, path.Child("httpGet", "port"))
		if get.Path != "" && !strings.HasPrefix(get.Path, "/") {
			c.add(obj, "%s.httpGet.path %q must start with /", path, get.Path)
		}
		switch get.Scheme {
		case "", corev1.URISchemeHTTP, corev1.URISchemeHTTPS:
		default:
			c.add(obj, "%s.httpGet.scheme: unknown scheme %q", path, get.Scheme)
		}
	}
	if tcp := probe.TCPSocket; tcp != nil {
		c.checkProbePort(obj, tcp.Port, portNames, path.Child("tcpSocket", "port"))
	}
	for name, v := range map[string]int32{
		"initialDelaySeconds": probe.InitialDelaySeconds, "timeoutSeconds": probe.TimeoutSeconds,
		"periodSeconds": probe.PeriodSeconds, "successThreshold": probe.SuccessThreshold,
		"failureThreshold": probe.FailureThreshold,
	} {
		if v < 0 {
			c.add(obj, "%s.%s must not be negative", path, name)
		}
	}
	if singleSuccess && probe.SuccessThreshold > 1 {
		c.add(obj, "%s.successThreshold must be 1 for liveness and startup probes", path)
	}
}

func (c *checker) checkProbePort(obj Object, port intstr.IntOrString, portNames map[string]bool, path *field.Path) {
	if port.Type == intstr.String {
		if !portNames[port.StrVal] {
			c.add(obj, "%s: the container has no port named %q", path, port.StrVal)
		}
		return
	}
	for _, msg := range validation.IsValidPortNum(int(port.IntVal)) {
		c.add(obj, "%s: %s", path, msg)
	}
}

func (c *checker) checkResources(obj Object, res corev1.ResourceRequirements, path *field.Path) {
	for name, q := range res.Limits {
		if q.Sign() < 0 {
			c.add(obj, "%s.limits.%s must not be negative", path, name)
		}
	}
	for name, request := range res.Requests {
		if request.Sign() < 0 {
			c.add(obj, "%s.requests.%s must not be negative", path, name)
		}
		limit, hasLimit := res.Limits[name]
		if hasLimit && request.Cmp(limit) > 0 {
			c.add(obj, "%s.requests.%s (%s) exceeds the limit (%s)", path, name, request.String(), limit.String())
		}
		if isExtendedResource(name) {
			if !hasLimit {
				c.add(obj, "%s.limits.%s is required: extended resources are requested through limits", path, name)
			} else if request.Cmp(limit) != 0 {
				c.add(obj, "%s: extended resource %s needs requests equal to limits", path, name)
			}
		}
	}
	for name, limit := range res.Limits {
		if isExtendedResource(name) {
			if _, ok := limit.AsInt64(); !ok {
				c.add(obj, "%s.limits.%s must be a whole number", path, name)
			}
		}
	}
}

// isExtendedResource reports device-plugin resources such as nvidia.com/gpu.
func isExtendedResource(name corev1.ResourceName) bool {
	s := string(name)
	return strings.Contains(s, "/") && !strings.HasPrefix(s, "kubernetes.io/") &&
		!strings.HasPrefix(s, corev1.ResourceHugePagesPrefix) && !strings.HasPrefix(s, "requests.")
}
