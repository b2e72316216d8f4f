package onnxfile

import (
	"fmt"
	"math"
	"slices"
)

// The patterns FuseForORT rewrites, each anchored at one node and matched backwards and forwards from it.

// layerNorm matches, anchored at the normalising Div,
//
//	m = Reshape(Mul(ReduceSum(x, last), 1/E)); d = Sub(x, m)
//	v = Reshape(Mul(ReduceSum(Mul(d, d), last), 1/E)); n = Div(d, Sqrt(Add(v, eps)))
//	y = Add(Mul(n, gamma), beta)
//
// with gamma and beta 1-D initializers of E values (or Reshapes of them), and replaces it by
// LayerNormalization(x, gamma, beta; axis -1, epsilon eps).
func (r *rewrite) layerNorm(div *gnode) bool {
	g := r.g
	sub := g.from(div.inputs[0], "Sub")
	sqrt := g.from(div.inputs[1], "Sqrt")
	if sub == nil || sqrt == nil {
		return false
	}
	x, d := sub.inputs[0], sub.outputs[0]
	mReshape := g.from(sub.inputs[1], "Reshape")
	mul1 := nodeFrom(g, mReshape, 0, "Mul")
	sum1 := nodeFrom(g, mul1, 0, "ReduceSum")
	addEps := g.from(sqrt.inputs[0], "Add")
	vReshape := nodeFrom(g, addEps, 0, "Reshape")
	mul2 := nodeFrom(g, vReshape, 0, "Mul")
	sum2 := nodeFrom(g, mul2, 0, "ReduceSum")
	square := nodeFrom(g, sum2, 0, "Mul")
	if !r.free(sub, sqrt, mReshape, mul1, sum1, addEps, vReshape, mul2, sum2, square, div) ||
		sum1.inputs[0] != x || square.inputs[0] != d || square.inputs[1] != d || g.uses[d] != 3 ||
		!r.single(sum1.outputs[0], mul1.outputs[0], mReshape.outputs[0], square.outputs[0], sum2.outputs[0],
			mul2.outputs[0], vReshape.outputs[0], addEps.outputs[0], sqrt.outputs[0]) ||
		!r.lastAxis(sum1.inputs[1], mReshape.inputs[1]) || !r.lastAxis(sum2.inputs[1], vReshape.inputs[1]) {
		return false
	}
	mulG := r.consumer(div.outputs[0], "Mul")
	addB := nodeConsumer(r, mulG, "Add")
	if !r.free(mulG, addB) {
		return false
	}
	gamma, ok1 := r.vector(other(mulG, div.outputs[0]))
	beta, ok2 := r.vector(other(addB, mulG.outputs[0]))
	eps, ok3 := g.floatConst(addEps.inputs[1])
	inv1, ok4 := g.floatConst(mul1.inputs[1])
	inv2, ok5 := g.floatConst(mul2.inputs[1])
	size := len(g.dims(gamma))
	if !(ok1 && ok2 && ok3 && ok4 && ok5) || size != 1 || !equalDims(g.dims(gamma), g.dims(beta)) {
		return false
	}
	e := float64(g.dims(gamma)[0])
	if !near(inv1, 1/e) || !near(inv2, 1/e) {
		return false
	}
	axis := int64(-1)
	node := encodeNode(addB.outputs[0]+"/layer_norm", "LayerNormalization", []string{x, gamma, beta}, addB.outputs,
		attribute{name: "axis", i: &axis}, attribute{name: "epsilon", f: &eps})
	r.commit(node, addB, sub, sqrt, mReshape, mul1, sum1, addEps, vReshape, mul2, sum2, square, div, mulG)
	return true
}

// softmax matches, anchored at the normalising Div,
//
//	e = Exp(Sub(z, [Identity](Reshape(ReduceMax(z, last))))); p = Div(e, Reshape(ReduceSum(e, last)))
//
// and replaces it by Softmax(z; axis -1).
func (r *rewrite) softmax(div *gnode) bool {
	g := r.g
	exp := g.from(div.inputs[0], "Exp")
	sumReshape := g.from(div.inputs[1], "Reshape")
	sum := nodeFrom(g, sumReshape, 0, "ReduceSum")
	sub := nodeFrom(g, exp, 0, "Sub")
	if !r.free(exp, sumReshape, sum, sub, div) {
		return false
	}
	z := sub.inputs[0]
	nodes := []*gnode{exp, sumReshape, sum, sub}
	maxName := sub.inputs[1]
	if id := g.from(maxName, "Identity"); id != nil {
		nodes = append(nodes, id)
		if !r.single(id.outputs[0]) {
			return false
		}
		maxName = id.inputs[0]
	}
	maxReshape := g.from(maxName, "Reshape")
	reduceMax := nodeFrom(g, maxReshape, 0, "ReduceMax")
	if !r.free(maxReshape, reduceMax) || reduceMax.inputs[0] != z || sum.inputs[0] != exp.outputs[0] ||
		g.uses[exp.outputs[0]] != 2 || !r.single(reduceMax.outputs[0], maxReshape.outputs[0], sub.outputs[0],
		sum.outputs[0], sumReshape.outputs[0]) || len(reduceMax.inputs) < 2 || len(sum.inputs) < 2 ||
		!r.lastAxis(reduceMax.inputs[1], maxReshape.inputs[1]) || !r.lastAxis(sum.inputs[1], sumReshape.inputs[1]) {
		return false
	}
	axis := int64(-1)
	node := encodeNode(div.outputs[0]+"/softmax", "Softmax", []string{z}, div.outputs, attribute{name: "axis", i: &axis})
	r.commit(node, div, append(nodes, maxReshape, reduceMax)...)
	return true
}

// gelu matches, anchored at the Erf,
//
//	y = Mul(x, Mul(Add(Erf(Mul(x, 1/√2)), 1), 0.5))
//
// (operands of Mul and Add in either order) and replaces it by Gelu(x) (opset 20, exact).
func (r *rewrite) gelu(erf *gnode) bool {
	g := r.g
	scale := g.from(erf.inputs[0], "Mul")
	addOne := r.consumer(erf.outputs[0], "Add")
	half := nodeConsumer(r, addOne, "Mul")
	if !r.free(scale, erf, addOne, half) || !r.single(scale.outputs[0]) {
		return false
	}
	x, c, ok := constOperand(g, scale)
	one, okOne := g.floatConst(other(addOne, erf.outputs[0]))
	h, okHalf := g.floatConst(other(half, addOne.outputs[0]))
	if !ok || !okOne || !okHalf || !near(c, 1/math.Sqrt2) || one != 1 || h != 0.5 {
		return false
	}
	out := r.consumer(half.outputs[0], "Mul")
	if !r.free(out) || other(out, half.outputs[0]) != x {
		return false
	}
	node := encodeNode(out.outputs[0]+"/gelu", "Gelu", []string{x}, out.outputs)
	r.commit(node, out, scale, erf, addOne, half)
	return true
}

// nodeFrom is the producer of n's input i if its operator is op (nil when n is nil or it is not).
func nodeFrom(g *graph, n *gnode, i int, op string) *gnode {
	if n == nil || len(n.inputs) <= i {
		return nil
	}
	return g.from(n.inputs[i], op)
}

// nodeConsumer is the one op node that reads n's output (nil when n is nil).
func nodeConsumer(r *rewrite, n *gnode, op string) *gnode {
	if n == nil {
		return nil
	}
	return r.consumer(n.outputs[0], op)
}

// other is the input of a two-input node that is not value ("" when it has not exactly that shape).
func other(n *gnode, value string) string {
	if n == nil || len(n.inputs) != 2 {
		return ""
	}
	switch value {
	case n.inputs[0]:
		return n.inputs[1]
	case n.inputs[1]:
		return n.inputs[0]
	}
	return ""
}

// constOperand splits a two-input node into its non-constant operand and its scalar float constant.
func constOperand(g *graph, n *gnode) (value string, c float32, ok bool) {
	if len(n.inputs) != 2 {
		return "", 0, false
	}
	if c, ok := g.floatConst(n.inputs[1]); ok {
		return n.inputs[0], c, true
	}
	if c, ok := g.floatConst(n.inputs[0]); ok {
		return n.inputs[1], c, true
	}
	return "", 0, false
}

// vector is the 1-D float initializer behind name: name itself, or the initializer a constant Reshape reshapes.
func (r *rewrite) vector(name string) (string, bool) {
	if n := r.g.from(name, "Reshape"); n != nil {
		name = n.inputs[0]
	}
	if _, ok := r.g.floats(name); !ok || len(r.g.dims(name)) != 1 {
		return "", false
	}
	return name, true
}

func equalDims(a, b []int64) bool { return slices.Equal(a, b) }

// einsumAsMatMul returns the attention products GoMLX exports as Einsum as a transpose of each operand (nil:
// as it is) before a MatMul: Q·Kᵀ over heads ([B,N,H,D] × [B,N,H,D] -> [B,H,N,N]) and P·V ([B,H,N,N] ×
// [B,N,H,D] -> [B,H,N,D]).
func einsumAsMatMul(equation string) ([2][]int64, bool) {
	switch equation {
	case "abcd,aecd->acbe":
		return [2][]int64{{0, 2, 1, 3}, {0, 2, 3, 1}}, true
	case "abcd,adbe->abce":
		return [2][]int64{nil, {0, 2, 1, 3}}, true
	}
	return [2][]int64{}, false
}

// einsum rewrites an Einsum of einsumAsMatMul as Transposes and a MatMul.
func (r *rewrite) einsum(n *gnode) bool {
	perms, ok := einsumAsMatMul(n.stringAttr("equation"))
	if !ok || len(n.inputs) != 2 || !r.free(n) {
		return false
	}
	var nodes [][]byte
	operands := slices.Clone(n.inputs)
	for i, perm := range perms {
		if perm == nil {
			continue
		}
		t := fmt.Sprintf("%s/operand%d", n.outputs[0], i)
		nodes = append(nodes, encodeNode(t+"/transpose", "Transpose", []string{operands[i]}, []string{t},
			attribute{name: "perm", ints: perm}))
		operands[i] = t
	}
	nodes = append(nodes, encodeNode(n.outputs[0]+"/matmul", "MatMul", operands, n.outputs))
	r.replace[n.field] = nodes
	r.count++
	return true
}
