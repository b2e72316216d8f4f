package manifestcheck

import (
	corev1 "k8s.io/api/core/v1"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

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
