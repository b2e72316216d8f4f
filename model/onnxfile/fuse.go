package onnxfile

import (
	"fmt"
	"math"
	"slices"
)

// Fusions counts the subgraphs FuseForORT replaced.
type Fusions struct {
	LayerNorm, Softmax, Gelu int
	// Einsum counts the attention products rewritten as Transpose and MatMul.
	Einsum int
}

// FuseForORT rewrites the layer norms, softmaxes and GELUs that GoMLX exports as chains of elementary operators
// (ReduceSum, Sub, Mul, Sqrt, Div ...; ReduceMax, Exp ...; Erf ...) into the single operators of ONNX opset 17-20
// (LayerNormalization, Softmax, Gelu), which ONNX Runtime runs as one kernel each, and the attention's Einsums
// into Transposes and MatMuls, which ONNX Runtime runs faster than its Einsum: GoMLX's export leaves them in
// shapes ONNX Runtime's own fusions do not match.
// Only exact matches are rewritten — each intermediate value used by the pattern alone, reductions over the last
// axis, the constants of the formula — and anything else is left as it is. The model must declare opset 20 or
// later of the default domain; otherwise it is returned unchanged.
func FuseForORT(model []byte) ([]byte, Fusions, error) {
	var done Fusions
	fields, err := parse(model)
	if err != nil {
		return nil, done, err
	}
	if opsetVersion(fields, "") < 20 {
		return model, done, nil
	}
	err = editField(fields, modelGraph, func(b []byte) ([]byte, error) {
		g, err := parseGraph(b)
		if err != nil {
			return nil, err
		}
		r := &rewrite{g: g, replace: map[int][][]byte{}, remove: map[int]bool{}}
		for _, n := range g.nodes {
			switch n.op {
			case "Div":
				if r.layerNorm(n) {
					done.LayerNorm++
				} else if r.softmax(n) {
					done.Softmax++
				}
			case "Erf":
				if r.gelu(n) {
					done.Gelu++
				}
			case "Einsum":
				if r.einsum(n) {
					done.Einsum++
				}
			}
		}
		return r.apply(), nil
	})
	if err != nil {
		return nil, done, fmt.Errorf("onnxfile: fuse: %w", err)
	}
	return marshal(fields), done, nil
}

// opsetVersion is the model's opset version of domain ("": the default).
func opsetVersion(fields []field, domain string) uint64 {
	for _, f := range fields {
		if f.num != 8 { // ModelProto.opset_import
			continue
		}
		o, err := parse(f.val)
		if err != nil {
			continue
		}
		if d := stringField(o, 1); d == domain || (domain == "" && d == "ai.onnx") {
			v, _ := varintField(o, 2)
			return v
		}
	}
	return 0
}

// rewrite collects the replacements of one graph: the new node that takes the place of a pattern's last node,
// and the pattern's other nodes, removed.
type rewrite struct {
	g       *graph
	replace map[int][][]byte // graph field index -> the encoded NodeProtos that take its place
	remove  map[int]bool
	count   int
}

// free reports whether none of nodes is part of an earlier rewrite.
func (r *rewrite) free(nodes ...*gnode) bool {
	for _, n := range nodes {
		if n == nil || r.remove[n.field] || r.replace[n.field] != nil {
			return false
		}
	}
	return true
}

// commit replaces last by node and removes the others.
func (r *rewrite) commit(node []byte, last *gnode, others ...*gnode) {
	r.replace[last.field] = [][]byte{node}
	for _, n := range others {
		r.remove[n.field] = true
	}
	r.count++
}

// single reports whether each value is read exactly once.
func (r *rewrite) single(values ...string) bool {
	for _, v := range values {
		if r.g.uses[v] != 1 {
			return false
		}
	}
	return true
}

// consumer is the one node that reads value, if it is an op node; nil otherwise.
func (r *rewrite) consumer(value, op string) *gnode {
	if r.g.uses[value] != 1 {
		return nil
	}
	for _, n := range r.g.nodes {
		if n.op == op && slices.Contains(n.inputs, value) {
			return n
		}
	}
	return nil
}

// lastAxis reports whether the reduction axes initializer names the last axis of a tensor whose kept-dims
// shape is the Reshape target shapeName (its last dimension 1).
func (r *rewrite) lastAxis(axesName, shapeName string) bool {
	axes, ok1 := r.g.ints(axesName)
	shape, ok2 := r.g.ints(shapeName)
	return ok1 && ok2 && len(axes) == 1 && len(shape) > 0 && shape[len(shape)-1] == 1 &&
		(axes[0] == int64(len(shape)-1) || axes[0] == -1)
}

// apply returns the graph with the replacements made and the nodes whose outputs nothing reads any more
// removed (the constant reshapes of the scales and biases a fusion took over).
func (r *rewrite) apply() []byte {
	if r.count == 0 {
		return marshal(r.g.fields)
	}
	out := make([]field, 0, len(r.g.fields))
	for i, f := range r.g.fields {
		switch {
		case r.remove[i]:
		case r.replace[i] != nil:
			for _, n := range r.replace[i] {
				out = append(out, field{num: graphNode, typ: f.typ, val: n})
			}
		default:
			out = append(out, f)
		}
	}
	return pruneUnused(out)
}

// pruneUnused drops, until none is left, the nodes none of whose outputs is read by a node or a graph output.
func pruneUnused(fields []field) []byte {
	for {
		g, err := parseGraph(marshal(fields))
		if err != nil {
			return marshal(fields)
		}
		dead := map[int]bool{}
		for _, n := range g.nodes {
			used := false
			for _, o := range n.outputs {
				used = used || g.uses[o] > 0
			}
			if !used {
				dead[n.field] = true
			}
		}
		if len(dead) == 0 {
			return marshal(fields)
		}
		kept := fields[:0:0]
		for i, f := range fields {
			if !dead[i] {
				kept = append(kept, f)
			}
		}
		fields = kept
	}
}

// near reports whether a float constant is within a relative 1e-5 of want.
func near(v float32, want float64) bool {
	return math.Abs(float64(v)-want) <= 1e-5*math.Abs(want)
}
