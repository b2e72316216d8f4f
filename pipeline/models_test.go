package pipeline

import (
	"context"
	"strings"
	"testing"

	"github.com/vitseg/vitseg/internal/testsupport/modeltest"
	"github.com/vitseg/vitseg/model"
)

// TestLoadRefusesModelWithoutNameOrVersion: a model whose metadata has no name, or no version (and none is
// given by the registry), is refused at load: every result event it produced would be invalid.
func TestLoadRefusesModelWithoutNameOrVersion(t *testing.T) {
	l := &modelLoader{runtime: modeltest.Runtime(t)}
	exported := modeltest.Export(t, model.PresetTiny, "", 1) // no version
	if _, err := l.load(context.Background(), exported, ""); err == nil || !strings.Contains(err.Error(), "name or version") {
		t.Fatalf("load of a model without a version: %v, want refused", err)
	}
	m, err := l.load(context.Background(), exported, "000007") // the registry's version
	if err != nil {
		t.Fatalf("load with the registry's version: %v", err)
	}
	m.sess.Close() //nolint:errcheck // Test.
	meta, err := model.ReadMetadata(exported)
	if err != nil {
		t.Fatal(err)
	}
	meta.Name, meta.Version = "", "000007"
	unnamed, err := model.WriteMetadata(exported, meta)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.load(context.Background(), unnamed, ""); err == nil || !strings.Contains(err.Error(), "name or version") {
		t.Fatalf("load of a model without a name: %v, want refused", err)
	}
}
