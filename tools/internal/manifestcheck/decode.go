// Package manifestcheck validates rendered Kubernetes manifests offline: every
// document is decoded strictly (unknown or duplicate fields fail, field names
// are case-sensitive, values must fit their Go types) into the typed API
// structs of k8s.io/api, the prometheus-operator monitoring API, or a minimal
// typed copy of KEDA's API, and then checked for the semantic rules an API
// server or controller would reject and for references between the rendered
// objects.
package manifestcheck

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// Object is one decoded document of a manifest stream.
type Object struct {
	// Source names the document: the stream name and the document's index.
	Source string
	// GVK is the document's apiVersion and kind.
	GVK schema.GroupVersionKind
	// Name and Namespace come from the document's metadata.
	Name, Namespace string
	// Typed points at the strictly decoded typed struct, for example
	// *appsv1.Deployment.
	Typed any
}

// Ref names the object as Kind/name for messages.
func (o Object) Ref() string { return o.GVK.Kind + "/" + o.Name }

// Problem is one validation failure.
type Problem struct {
	// Source is the document the problem was found in.
	Source string
	// Object is the Kind/name of the object, empty when the document could not
	// be decoded far enough to know it.
	Object string
	// Message says what is wrong, with a field path where one applies.
	Message string
}

// String formats the problem as "source: Kind/name: message".
func (p Problem) String() string {
	if p.Object == "" {
		return p.Source + ": " + p.Message
	}
	return p.Source + ": " + p.Object + ": " + p.Message
}

// Decode reads a multi-document YAML stream (as `helm template` prints it) and
// strictly decodes every non-empty document. It returns the objects that
// decoded, the problems of those that did not, and an error only when the
// stream itself could not be read.
func Decode(r io.Reader, source string) ([]Object, []Problem, error) {
	reader := utilyaml.NewYAMLReader(bufio.NewReader(r))
	var (
		objs     []Object
		problems []Problem
	)
	for index := 0; ; index++ {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return objs, problems, nil
		}
		if err != nil {
			return nil, nil, fmt.Errorf("read %s: %w", source, err)
		}
		docSource := fmt.Sprintf("%s#%d", source, index)
		if label := sourceComment(doc); label != "" {
			docSource += " (" + label + ")"
		}
		obj, docProblems, ok := decodeDocument(doc, docSource)
		problems = append(problems, docProblems...)
		if ok {
			objs = append(objs, obj)
		}
	}
}

// sourceComment returns the template path of a `# Source: chart/templates/x.yaml`
// comment that helm puts at the top of each rendered document.
func sourceComment(doc []byte) string {
	for _, line := range strings.Split(string(doc), "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "# Source: "); ok {
			return rest
		}
	}
	return ""
}

func decodeDocument(doc []byte, source string) (Object, []Problem, bool) {
	fail := func(format string, args ...any) (Object, []Problem, bool) {
		return Object{}, []Problem{{Source: source, Message: fmt.Sprintf(format, args...)}}, false
	}
	data, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return fail("invalid YAML: %v", err)
	}
	if trimmed := bytes.TrimSpace(data); len(trimmed) == 0 || string(trimmed) == "null" {
		return Object{}, nil, false
	}
	var typeMeta struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	if err := json.Unmarshal(data, &typeMeta); err != nil {
		return fail("document is not an object: %v", err)
	}
	if typeMeta.APIVersion == "" || typeMeta.Kind == "" {
		return fail("apiVersion and kind are required")
	}
	gv, err := schema.ParseGroupVersion(typeMeta.APIVersion)
	if err != nil {
		return fail("apiVersion %q: %v", typeMeta.APIVersion, err)
	}
	gvk := gv.WithKind(typeMeta.Kind)
	typed, err := newTyped(gvk)
	if err != nil {
		return fail("%v", err)
	}
	strictErrs, err := sigsjson.UnmarshalStrict(data, typed)
	if err != nil {
		return fail("%s: %v", gvk.Kind, err)
	}
	accessor, err := meta.Accessor(typed)
	if err != nil {
		return fail("%s has no object metadata: %v", gvk.Kind, err)
	}
	obj := Object{
		Source:    source,
		GVK:       gvk,
		Name:      accessor.GetName(),
		Namespace: accessor.GetNamespace(),
		Typed:     typed,
	}
	var problems []Problem
	for _, strictErr := range strictErrs {
		problems = append(problems, Problem{Source: source, Object: obj.Ref(), Message: strictErr.Error()})
	}
	// Keep the object even with strict errors: its known fields decoded, and
	// cross-object checks should not report it as missing.
	return obj, problems, true
}
