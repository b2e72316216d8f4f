package manifestcheck

import (
	"regexp"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

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
