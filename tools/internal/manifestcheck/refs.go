package manifestcheck

import (
	"reflect"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// checkReferences checks that objects which point at each other in one render
// agree: selectors select something, named ports exist, scale targets exist,
// referenced ConfigMaps and keys exist, and a workload is scaled by one owner.
func (c *checker) checkReferences() {
	lookup := indexObjects(c.objs)
	scales := &scaleClaims{c: c, lookup: lookup, by: map[string]Object{}}
	for _, obj := range c.objs {
		switch typed := obj.Typed.(type) {
		case *corev1.Service:
			c.checkServiceTargets(obj, typed)
		case *policyv1.PodDisruptionBudget:
			if c.matchingWorkloads(obj.Namespace, typed.Spec.Selector) == 0 {
				c.add(obj, "spec.selector selects no workload in the rendered manifests")
			}
		case *autoscalingv2.HorizontalPodAutoscaler:
			scales.claim(obj, typed.Spec.ScaleTargetRef.Kind, typed.Spec.ScaleTargetRef.Name)
			if target, ok := lookup(typed.Spec.ScaleTargetRef.Kind, obj.Namespace, typed.Spec.ScaleTargetRef.Name); ok {
				c.checkUtilizationRequests(obj, typed, target)
			}
		case *ScaledObject:
			c.checkScaledObjectRefs(obj, typed, lookup, scales)
		case *TriggerAuthentication:
			for _, ref := range typed.Spec.SecretTargetRef {
				if !kafkaAuthParams[ref.Parameter] {
					c.add(obj, "secretTargetRef parameter %q is not a kafka scaler parameter", ref.Parameter)
				}
				c.checkSecretKey(obj, lookup, ref.Name, ref.Key)
			}
		case *monitoringv1.ServiceMonitor:
			c.checkServiceMonitorTargets(obj, typed)
		}
		if _, tmpl := podTemplate(obj); tmpl != nil {
			c.checkPodReferences(obj, &tmpl.Spec, lookup)
		}
	}
}

// indexObjects returns a lookup of objs by kind, namespace and name.
func indexObjects(objs []Object) lookupFunc {
	byKind := map[string]map[string]Object{} // kind -> namespace/name -> object
	for _, obj := range objs {
		if byKind[obj.GVK.Kind] == nil {
			byKind[obj.GVK.Kind] = map[string]Object{}
		}
		byKind[obj.GVK.Kind][obj.Namespace+"/"+obj.Name] = obj
	}
	return func(kind, namespace, name string) (Object, bool) {
		obj, ok := byKind[kind][namespace+"/"+name]
		return obj, ok
	}
}

// scaleClaims records which autoscaler scales each workload.
type scaleClaims struct {
	c      *checker
	lookup lookupFunc
	by     map[string]Object // namespace/Kind/name of a workload -> its autoscaler
}

// claim records that owner scales the workload kind/name (a Deployment when kind is empty), reporting a target
// that is not rendered, one that another autoscaler already scales, and a Deployment that sets its replicas.
func (s *scaleClaims) claim(owner Object, kind, name string) {
	if kind == "" {
		kind = "Deployment"
	}
	target, ok := s.lookup(kind, owner.Namespace, name)
	if !ok {
		s.c.add(owner, "scale target %s/%s is not in the rendered manifests", kind, name)
		return
	}
	key := owner.Namespace + "/" + kind + "/" + name
	if other, taken := s.by[key]; taken {
		s.c.add(owner, "%s/%s is already scaled by %s; two autoscalers fight over its replicas", kind, name, other.Ref())
	}
	s.by[key] = owner
	if d, ok := target.Typed.(*appsv1.Deployment); ok && d.Spec.Replicas != nil {
		s.c.add(target, "spec.replicas is set while %s scales it: every upgrade would reset the scale", owner.Ref())
	}
}

// checkScaledObjectRefs claims a KEDA ScaledObject's scale target and checks that its triggers' authentication
// references are rendered.
func (c *checker) checkScaledObjectRefs(obj Object, so *ScaledObject, lookup lookupFunc, scales *scaleClaims) {
	if ref := so.Spec.ScaleTargetRef; ref != nil && ref.Name != "" {
		scales.claim(obj, ref.Kind, ref.Name)
	}
	for _, trigger := range so.Spec.Triggers {
		ref := trigger.AuthenticationRef
		if ref == nil || (ref.Kind != "" && ref.Kind != "TriggerAuthentication") {
			continue
		}
		if _, ok := lookup("TriggerAuthentication", obj.Namespace, ref.Name); !ok {
			c.add(obj, "trigger authenticationRef %q is not in the rendered manifests", ref.Name)
		}
	}
}

type lookupFunc func(kind, namespace, name string) (Object, bool)

// workloadPods returns the pod templates of the rendered workloads in namespace.
func (c *checker) workloadPods(namespace string) []*corev1.PodTemplateSpec {
	var pods []*corev1.PodTemplateSpec
	for _, obj := range c.objs {
		if _, tmpl := podTemplate(obj); tmpl != nil && obj.Namespace == namespace {
			pods = append(pods, tmpl)
		}
	}
	return pods
}

func (c *checker) matchingWorkloads(namespace string, sel *metav1.LabelSelector) int {
	if sel == nil {
		return 0
	}
	selector, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil || selector.Empty() {
		return 0
	}
	n := 0
	for _, pod := range c.workloadPods(namespace) {
		if selector.Matches(labels.Set(pod.Labels)) {
			n++
		}
	}
	return n
}

func (c *checker) checkServiceTargets(obj Object, svc *corev1.Service) {
	if len(svc.Spec.Selector) == 0 {
		return // endpoints are managed elsewhere
	}
	selector := labels.SelectorFromSet(svc.Spec.Selector)
	var matched []*corev1.PodTemplateSpec
	for _, pod := range c.workloadPods(obj.Namespace) {
		if selector.Matches(labels.Set(pod.Labels)) {
			matched = append(matched, pod)
		}
	}
	if len(matched) == 0 {
		c.add(obj, "spec.selector selects no workload in the rendered manifests")
		return
	}
	for _, port := range svc.Spec.Ports {
		if port.TargetPort.Type != intstr.String || port.TargetPort.StrVal == "" {
			continue
		}
		for _, pod := range matched {
			if !podHasPortName(pod, port.TargetPort.StrVal) {
				c.add(obj, "port %q: targetPort %q is not a named container port of the selected pods", port.Name, port.TargetPort.StrVal)
				break
			}
		}
	}
}

func podHasPortName(pod *corev1.PodTemplateSpec, name string) bool {
	for _, ctr := range pod.Spec.Containers {
		for _, port := range ctr.Ports {
			if port.Name == name {
				return true
			}
		}
	}
	return false
}

func (c *checker) checkServiceMonitorTargets(obj Object, sm *monitoringv1.ServiceMonitor) {
	selector, err := metav1.LabelSelectorAsSelector(&sm.Spec.Selector)
	if err != nil || selector.Empty() {
		return // reported by checkServiceMonitor
	}
	var services []*corev1.Service
	for _, other := range c.objs {
		if svc, ok := other.Typed.(*corev1.Service); ok && other.Namespace == obj.Namespace && selector.Matches(labels.Set(svc.Labels)) {
			services = append(services, svc)
		}
	}
	if len(services) == 0 {
		c.add(obj, "spec.selector selects no Service in the rendered manifests")
		return
	}
	for i, ep := range sm.Spec.Endpoints {
		if ep.Port == "" {
			continue
		}
		for _, svc := range services {
			found := false
			for _, port := range svc.Spec.Ports {
				found = found || port.Name == ep.Port
			}
			if !found {
				c.add(obj, "spec.endpoints[%d].port %q is not a port name of Service %s", i, ep.Port, svc.Name)
			}
		}
	}
}

// checkUtilizationRequests: a Utilization target is a percentage of the
// request, so every container of the target must request that resource.
func (c *checker) checkUtilizationRequests(obj Object, hpa *autoscalingv2.HorizontalPodAutoscaler, target Object) {
	_, tmpl := podTemplate(target)
	if tmpl == nil {
		return
	}
	for _, metric := range hpa.Spec.Metrics {
		if metric.Type != autoscalingv2.ResourceMetricSourceType || metric.Resource == nil ||
			metric.Resource.Target.Type != autoscalingv2.UtilizationMetricType {
			continue
		}
		for _, ctr := range tmpl.Spec.Containers {
			if _, ok := ctr.Resources.Requests[metric.Resource.Name]; !ok {
				c.add(obj, "utilization of %s needs a %s request on container %q of %s", metric.Resource.Name, metric.Resource.Name, ctr.Name, target.Ref())
			}
		}
	}
}

func (c *checker) checkPodReferences(obj Object, spec *corev1.PodSpec, lookup lookupFunc) {
	configMap := func(name, key string, optional *bool) {
		if optional != nil && *optional {
			return
		}
		cm, ok := lookup("ConfigMap", obj.Namespace, name)
		if !ok {
			c.add(obj, "ConfigMap %q is referenced but not rendered", name)
			return
		}
		if key == "" {
			return
		}
		data := cm.Typed.(*corev1.ConfigMap)
		_, inData := data.Data[key]
		_, inBinary := data.BinaryData[key]
		if !inData && !inBinary {
			c.add(obj, "ConfigMap %q has no key %q", name, key)
		}
	}
	for _, vol := range spec.Volumes {
		if vol.ConfigMap != nil {
			configMap(vol.ConfigMap.Name, "", vol.ConfigMap.Optional)
			for _, item := range vol.ConfigMap.Items {
				configMap(vol.ConfigMap.Name, item.Key, vol.ConfigMap.Optional)
			}
		}
		if vol.Secret != nil && (vol.Secret.Optional == nil || !*vol.Secret.Optional) {
			for _, item := range vol.Secret.Items {
				c.checkSecretKey(obj, lookup, vol.Secret.SecretName, item.Key)
			}
		}
		if vol.PersistentVolumeClaim != nil && vol.PersistentVolumeClaim.ClaimName == "" {
			c.add(obj, "volume %q: persistentVolumeClaim.claimName is required", vol.Name)
		}
	}
	for _, ctr := range append(append([]corev1.Container{}, spec.InitContainers...), spec.Containers...) {
		for _, from := range ctr.EnvFrom {
			if from.ConfigMapRef != nil {
				configMap(from.ConfigMapRef.Name, "", from.ConfigMapRef.Optional)
			}
		}
		for _, env := range ctr.Env {
			if env.ValueFrom == nil {
				continue
			}
			if ref := env.ValueFrom.ConfigMapKeyRef; ref != nil {
				configMap(ref.Name, ref.Key, ref.Optional)
			}
			if ref := env.ValueFrom.SecretKeyRef; ref != nil && (ref.Optional == nil || !*ref.Optional) {
				c.checkSecretKey(obj, lookup, ref.Name, ref.Key)
			}
		}
	}
}

// checkSecretKey checks a key of a Secret that is part of the render; Secrets
// that are not rendered are expected to exist in the cluster already.
func (c *checker) checkSecretKey(obj Object, lookup lookupFunc, name, key string) {
	secretObj, ok := lookup("Secret", obj.Namespace, name)
	if !ok {
		return
	}
	secret := secretObj.Typed.(*corev1.Secret)
	_, inData := secret.Data[key]
	_, inString := secret.StringData[key]
	if !inData && !inString {
		c.add(obj, "Secret %q has no key %q", name, key)
	}
}

// countSetFields counts the non-nil pointer fields of a union struct such as
// VolumeSource, EnvVarSource or ProbeHandler.
func countSetFields(union any) int {
	v := reflect.ValueOf(union)
	n := 0
	for i := 0; i < v.NumField(); i++ {
		if f := v.Field(i); f.Kind() == reflect.Pointer && !f.IsNil() {
			n++
		}
	}
	return n
}
