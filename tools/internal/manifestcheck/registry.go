package manifestcheck

import (
	"fmt"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// typeRegistry maps API kinds to constructors of their typed structs.
type typeRegistry struct {
	scheme *runtime.Scheme
	crds   map[schema.GroupVersionKind]func() any
}

// newTypeRegistry registers the served built-in API groups a chart renders,
// the prometheus-operator monitoring API and the vendored KEDA types.
func newTypeRegistry() (*typeRegistry, error) {
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		corev1.AddToScheme,
		appsv1.AddToScheme,
		batchv1.AddToScheme,
		policyv1.AddToScheme,
		autoscalingv2.AddToScheme,
		rbacv1.AddToScheme,
		networkingv1.AddToScheme,
		monitoringv1.AddToScheme,
	} {
		if err := add(scheme); err != nil {
			return nil, fmt.Errorf("register API types: %w", err)
		}
	}
	return &typeRegistry{
		scheme: scheme,
		crds: map[schema.GroupVersionKind]func() any{
			kedaGroupVersion.WithKind("ScaledObject"):          func() any { return &ScaledObject{} },
			kedaGroupVersion.WithKind("TriggerAuthentication"): func() any { return &TriggerAuthentication{} },
		},
	}, nil
}

// defaultRegistry is built once; it is read-only after construction.
var defaultRegistry = func() *typeRegistry {
	r, err := newTypeRegistry()
	if err != nil {
		panic(err) // static registration of compiled-in types cannot fail at run time
	}
	return r
}()

// newTyped returns a pointer to a zero typed struct for gvk.
func newTyped(gvk schema.GroupVersionKind) (any, error) {
	if ctor, ok := defaultRegistry.crds[gvk]; ok {
		return ctor(), nil
	}
	if gvk.Kind == "List" || !defaultRegistry.scheme.Recognizes(gvk) || isOptionsKind(gvk.Kind) {
		return nil, fmt.Errorf("unknown or unserved kind %s (apiVersion %s)", gvk.Kind, gvk.GroupVersion())
	}
	obj, err := defaultRegistry.scheme.New(gvk)
	if err != nil {
		return nil, fmt.Errorf("kind %s: %w", gvk, err)
	}
	return obj, nil
}

// isOptionsKind reports the request-option kinds every group registers, which
// are never stored objects.
func isOptionsKind(kind string) bool {
	switch kind {
	case "ListOptions", "GetOptions", "DeleteOptions", "CreateOptions", "UpdateOptions",
		"PatchOptions", "WatchEvent", "Status", "APIVersions", "APIGroupList", "APIGroup", "APIResourceList":
		return true
	}
	return false
}
