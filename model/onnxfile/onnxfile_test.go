package onnxfile

import (
	"encoding/binary"
	"errors"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

func bytesField(num protowire.Number, v []byte) field { return field{num, protowire.BytesType, v} }

func varint(v uint64) []byte { return protowire.AppendVarint(nil, v) }

func int64Tensor(name string, vals ...int64) []byte {
	raw := make([]byte, 8*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint64(raw[8*i:], uint64(v))
	}
	return marshal([]field{
		{tensorDims, protowire.VarintType, varint(uint64(len(vals)))},
		{tensorDataType, protowire.VarintType, varint(dataTypeInt64)},
		bytesField(tensorName, []byte(name)),
		bytesField(tensorRaw, raw),
	})
}

func valueInfo(name string, dims ...int64) []byte {
	var shape []field
	for _, d := range dims {
		shape = append(shape, bytesField(shapeDim, marshal([]field{{dimValue, protowire.VarintType, varint(uint64(d))}})))
	}
	tensor := marshal([]field{{1, protowire.VarintType, varint(1)}, bytesField(tensorTypeShape, marshal(shape))})
	return marshal([]field{bytesField(1, []byte(name)), bytesField(valueInfoType, marshal([]field{bytesField(typeTensor, tensor)}))})
}

func node(op string, inputs ...string) []byte {
	fs := []field{bytesField(nodeOpType, []byte(op))}
	for _, in := range inputs {
		fs = append(fs, bytesField(nodeInput, []byte(in)))
	}
	return marshal(fs)
}

// testModel is a graph images[7,4] -> Reshape(shape) -> Slice(ends) -> logits[7,4] with the given initializers.
func testModel(shape, ends []int64, extra ...field) []byte {
	graph := []field{
		bytesField(graphNode, node("Reshape", "images", "shape")),
		bytesField(graphNode, node("Slice", "reshaped", "starts", "ends")),
		bytesField(graphInitializer, int64Tensor("shape", shape...)),
		bytesField(graphInitializer, int64Tensor("ends", ends...)),
		bytesField(graphInput, valueInfo("images", 7, 4)),
		bytesField(graphOutput, valueInfo("logits", 7, 4)),
		bytesField(graphValueInfo, valueInfo("reshaped", 7, 2, 2)),
	}
	graph = append(graph, extra...)
	return marshal([]field{{1, protowire.VarintType, varint(8)}, bytesField(modelGraph, marshal(graph))})
}

func graphOf(t *testing.T, model []byte) []field {
	t.Helper()
	top, err := parse(model)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range top {
		if f.num == modelGraph {
			g, err := parse(f.val)
			if err != nil {
				t.Fatal(err)
			}
			return g
		}
	}
	t.Fatal("no graph")
	return nil
}

func initializer(t *testing.T, g []field, name string) []int64 {
	t.Helper()
	for _, f := range g {
		if f.num != graphInitializer {
			continue
		}
		tf, _ := parse(f.val)
		if stringField(tf, tensorName) == name {
			v, ok := int64Values(tf)
			if !ok {
				t.Fatalf("%s is not int64", name)
			}
			return v
		}
	}
	t.Fatalf("no initializer %s", name)
	return nil
}

func TestMakeBatchDynamic(t *testing.T) {
	out, err := MakeBatchDynamic(testModel([]int64{7, 2, 2}, []int64{7, 4}), 7, "batch")
	if err != nil {
		t.Fatal(err)
	}
	g := graphOf(t, out)
	if v := initializer(t, g, "shape"); v[0] != -1 || v[1] != 2 {
		t.Errorf("reshape shape = %v, want [-1 2 2]", v)
	}
	if v := initializer(t, g, "ends"); v[0] != 1<<63-1 || v[1] != 4 {
		t.Errorf("slice ends = %v, want [MaxInt64 4]", v)
	}
	for _, f := range g {
		switch f.num {
		case graphValueInfo:
			t.Error("intermediate value_info kept")
		case graphInput, graphOutput:
			vi, _ := parse(f.val)
			var typ, tensor, shape, dim []field
			for _, x := range vi {
				if x.num == valueInfoType {
					typ, _ = parse(x.val)
				}
			}
			tensor, _ = parse(typ[0].val)
			for _, x := range tensor {
				if x.num == tensorTypeShape {
					shape, _ = parse(x.val)
				}
			}
			dim, _ = parse(shape[0].val)
			if stringField(dim, dimParam) != "batch" {
				t.Errorf("%s: leading dim is not the symbolic batch", stringField(vi, 1))
			}
		}
	}
}

func TestMakeBatchDynamicRefusesAmbiguity(t *testing.T) {
	tests := []struct {
		name  string
		model []byte
		batch int
	}{
		{"batch past the leading axis", testModel([]int64{2, 7, 2}, []int64{7, 4}), 7},
		{"two -1 after rewrite", testModel([]int64{7, -1}, []int64{7, 4}), 7},
		{"expand of a batch shape", testModel([]int64{7, 2, 2}, []int64{7, 4},
			bytesField(graphNode, node("Expand", "x", "shape"))), 7},
		{"batch too small to recognise", testModel([]int64{1, 2, 2}, []int64{1, 4}), 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := MakeBatchDynamic(tc.model, tc.batch, "batch")
			if err == nil {
				t.Fatal("no error")
			}
			if tc.batch > 1 && !errors.Is(err, ErrUnsupported) {
				t.Errorf("err = %v, want ErrUnsupported", err)
			}
		})
	}
}

func TestMetadataRoundTrip(t *testing.T) {
	model := testModel([]int64{7, 2, 2}, []int64{7, 4})
	out, err := SetMetadata(model, map[string]string{"a": "1", "b": "2"})
	if err != nil {
		t.Fatal(err)
	}
	out, err = SetMetadata(out, map[string]string{"b": "3"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := Metadata(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["a"] != "1" || got["b"] != "3" {
		t.Errorf("metadata = %v, want a=1 b=3", got)
	}
	if _, err := Metadata([]byte{0xff, 0xff, 0xff}); err == nil {
		t.Error("garbage parsed as a model")
	}
}
