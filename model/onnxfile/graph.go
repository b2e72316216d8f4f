package onnxfile

import (
	"encoding/binary"
	"fmt"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// Further field numbers of onnx.proto used by the graph rewrites.
const (
	nodeOutput    = 2
	nodeName      = 3
	nodeAttribute = 5

	attrName   = 1
	attrFloat  = 2
	attrInt    = 3
	attrString = 4
	attrInts   = 8
	attrType   = 20

	attrTypeFloat = 1
	attrTypeInt   = 2
	attrTypeInts  = 7

	tensorFloat   = 4
	dataTypeFloat = 1
)

// gnode is one node of a graph: its position among the graph's fields, operator and value names.
type gnode struct {
	field   int // index in graph.fields
	op      string
	inputs  []string
	outputs []string
	attrs   [][]field // the AttributeProtos
}

// stringAttr is the value of the node's string attribute name ("" when it has none).
func (n *gnode) stringAttr(name string) string {
	for _, a := range n.attrs {
		if stringField(a, attrName) == name {
			return stringField(a, attrString)
		}
	}
	return ""
}

// graph is a parsed GraphProto with the indexes the rewrites match patterns on.
type graph struct {
	fields   []field
	nodes    []*gnode
	producer map[string]*gnode  // value name -> the node that outputs it
	uses     map[string]int     // value name -> how many node inputs and graph outputs read it
	inits    map[string][]field // initializer name -> its TensorProto fields
}

func parseGraph(b []byte) (*graph, error) {
	fields, err := parse(b)
	if err != nil {
		return nil, err
	}
	g := &graph{fields: fields, producer: map[string]*gnode{}, uses: map[string]int{}, inits: map[string][]field{}}
	for i, f := range fields {
		switch f.num {
		case graphNode:
			nf, err := parse(f.val)
			if err != nil {
				return nil, fmt.Errorf("onnxfile: node: %w", err)
			}
			n := &gnode{field: i, op: stringField(nf, nodeOpType)}
			if d := stringField(nf, nodeDomain); d != "" && d != "ai.onnx" {
				n.op = d + ":" + n.op
			}
			for _, x := range nf {
				switch x.num {
				case nodeInput:
					n.inputs = append(n.inputs, string(x.val))
					g.uses[string(x.val)]++
				case nodeOutput:
					n.outputs = append(n.outputs, string(x.val))
				case nodeAttribute:
					a, err := parse(x.val)
					if err != nil {
						return nil, fmt.Errorf("onnxfile: attribute: %w", err)
					}
					n.attrs = append(n.attrs, a)
				}
			}
			for _, o := range n.outputs {
				g.producer[o] = n
			}
			g.nodes = append(g.nodes, n)
		case graphInitializer:
			t, err := parse(f.val)
			if err != nil {
				return nil, fmt.Errorf("onnxfile: initializer: %w", err)
			}
			g.inits[stringField(t, tensorName)] = t
		case graphOutput:
			vi, err := parse(f.val)
			if err != nil {
				return nil, fmt.Errorf("onnxfile: output: %w", err)
			}
			g.uses[stringField(vi, 1)]++
		}
	}
	return g, nil
}

// from returns the node that produces name if its operator is op, else nil.
func (g *graph) from(name, op string) *gnode {
	if n := g.producer[name]; n != nil && n.op == op {
		return n
	}
	return nil
}

// floatConst is the single float32 value of an initializer, or of a constant Reshape of one.
func (g *graph) floatConst(name string) (float32, bool) {
	v, ok := g.floats(name)
	if !ok || len(v) != 1 {
		return 0, false
	}
	return v[0], true
}

// floats decodes a float32 initializer (raw_data or float_data), looking through a Reshape of one.
func (g *graph) floats(name string) ([]float32, bool) {
	if n := g.from(name, "Reshape"); n != nil && len(n.inputs) == 2 {
		if _, ok := g.inits[n.inputs[0]]; ok {
			name = n.inputs[0]
		}
	}
	t, ok := g.inits[name]
	if !ok {
		return nil, false
	}
	if v, _ := varintField(t, tensorDataType); v != dataTypeFloat {
		return nil, false
	}
	if raw := []byte(stringField(t, tensorRaw)); len(raw) > 0 {
		out := make([]float32, len(raw)/4)
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
		return out, true
	}
	var out []float32
	for _, f := range t {
		if f.num != tensorFloat {
			continue
		}
		b := f.val
		if f.typ == protowire.Fixed32Type {
			out = append(out, math.Float32frombits(binary.LittleEndian.Uint32(b)))
			continue
		}
		for len(b) >= 4 { // packed
			out = append(out, math.Float32frombits(binary.LittleEndian.Uint32(b)))
			b = b[4:]
		}
	}
	return out, len(out) > 0
}

// ints decodes an int64 initializer.
func (g *graph) ints(name string) ([]int64, bool) {
	t, ok := g.inits[name]
	if !ok {
		return nil, false
	}
	return int64Values(t)
}

// dims are an initializer's dimensions.
func (g *graph) dims(name string) []int64 { return tensorDimensions(g.inits[name]) }

// attribute is an ONNX node attribute of type float, int or ints.
type attribute struct {
	name string
	f    *float32
	i    *int64
	ints []int64
}

// encodeNode encodes a NodeProto of the default domain.
func encodeNode(name, op string, inputs, outputs []string, attrs ...attribute) []byte {
	var b []byte
	for _, in := range inputs {
		b = protowire.AppendTag(b, nodeInput, protowire.BytesType)
		b = protowire.AppendString(b, in)
	}
	for _, out := range outputs {
		b = protowire.AppendTag(b, nodeOutput, protowire.BytesType)
		b = protowire.AppendString(b, out)
	}
	b = protowire.AppendTag(b, nodeName, protowire.BytesType)
	b = protowire.AppendString(b, name)
	b = protowire.AppendTag(b, nodeOpType, protowire.BytesType)
	b = protowire.AppendString(b, op)
	for _, a := range attrs {
		var ab []byte
		ab = protowire.AppendTag(ab, attrName, protowire.BytesType)
		ab = protowire.AppendString(ab, a.name)
		switch {
		case a.f != nil:
			ab = protowire.AppendTag(ab, attrFloat, protowire.Fixed32Type)
			ab = protowire.AppendFixed32(ab, math.Float32bits(*a.f))
			ab = protowire.AppendTag(ab, attrType, protowire.VarintType)
			ab = protowire.AppendVarint(ab, attrTypeFloat)
		case a.i != nil:
			ab = protowire.AppendTag(ab, attrInt, protowire.VarintType)
			ab = protowire.AppendVarint(ab, uint64(*a.i))
			ab = protowire.AppendTag(ab, attrType, protowire.VarintType)
			ab = protowire.AppendVarint(ab, attrTypeInt)
		case a.ints != nil:
			for _, v := range a.ints {
				ab = protowire.AppendTag(ab, attrInts, protowire.VarintType)
				ab = protowire.AppendVarint(ab, uint64(v))
			}
			ab = protowire.AppendTag(ab, attrType, protowire.VarintType)
			ab = protowire.AppendVarint(ab, attrTypeInts)
		}
		b = protowire.AppendTag(b, nodeAttribute, protowire.BytesType)
		b = protowire.AppendBytes(b, ab)
	}
	return b
}
