package manifestcheck

import (
	"fmt"
	"io"
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
