package manifestcheck

import (
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

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
