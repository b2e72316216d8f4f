package onnxfile

import (
	"bytes"
	"maps"
	"os"
	"path/filepath"
	"testing"
)

// TestFuseForORTShippedModels: on the shipped model every layer norm, softmax, GELU and attention Einsum of
// GoMLX's export is rewritten (the numbers are the architecture's: 6 blocks with two layer norms, plus none at
// the head), no elementary operator of those patterns is left behind, and a second pass finds nothing.
// The numerical equality of the rewritten graphs is model/network's export parity test, which loads through it.
func TestFuseForORTShippedModels(t *testing.T) {
	for _, name := range []string{"small"} {
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("..", "zoo", name, "model.onnx"))
			if err != nil {
				t.Fatal(err)
			}
			out, done, err := FuseForORT(b)
			if err != nil {
				t.Fatal(err)
			}
			if want := (Fusions{LayerNorm: 12, Softmax: 6, Gelu: 6, Einsum: 12}); done != want {
				t.Errorf("fusions %+v, want %+v", done, want)
			}
			ops, err := OpTypes(out)
			if err != nil {
				t.Fatal(err)
			}
			for _, gone := range []string{"Erf", "Exp", "ReduceMax", "Einsum", "Identity"} {
				if ops[gone] != 0 {
					t.Errorf("%d %s nodes left: %v", ops[gone], gone, ops)
				}
			}
			if ops["LayerNormalization"] != 12 || ops["Softmax"] != 6 || ops["Gelu"] != 6 {
				t.Errorf("fused operators %v", ops)
			}
			again, twice, err := FuseForORT(out)
			if err != nil || twice != (Fusions{}) || !bytes.Equal(again, out) {
				t.Errorf("second pass: %+v, %v, changed %v", twice, err, !bytes.Equal(again, out))
			}
			before, err1 := Metadata(b)
			after, err2 := Metadata(out)
			if err1 != nil || err2 != nil || len(after) == 0 || !maps.Equal(before, after) {
				t.Errorf("metadata %v (%v), want %v (%v)", after, err2, before, err1)
			}
		})
	}
}

// TestFuseForORTLeavesOlderOpsets: a model that declares an opset before 20 (no Gelu) is returned unchanged.
func TestFuseForORTLeavesOlderOpsets(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "zoo", "small", "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	fields, err := parse(b)
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range fields {
		if f.num == 8 && opsetVersion([]field{f}, "") > 0 {
			fields[i].val = marshal([]field{bytesField(1, nil), {num: 2, typ: 0, val: varint(17)}})
		}
	}
	old := marshal(fields)
	out, done, err := FuseForORT(old)
	if err != nil || done != (Fusions{}) || !bytes.Equal(out, old) {
		t.Errorf("opset 17: fusions %+v, err %v, changed %v", done, err, !bytes.Equal(out, old))
	}
}
