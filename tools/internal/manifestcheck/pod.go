package manifestcheck

import (
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

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
