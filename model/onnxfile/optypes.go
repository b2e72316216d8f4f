package onnxfile

import "fmt"

// OpTypes counts the nodes of model's main graph by operator type (and domain, "com.microsoft:FusedMatMul",
// for operators outside the default one): what a graph optimizer's output is read with, to see which fusions
// applied.
func OpTypes(model []byte) (map[string]int, error) {
	fields, err := parse(model)
	if err != nil {
		return nil, err
	}
	counts := map[string]int{}
	for _, f := range fields {
		if f.num != modelGraph {
			continue
		}
		graph, err := parse(f.val)
		if err != nil {
			return nil, fmt.Errorf("onnxfile: graph: %w", err)
		}
		for _, g := range graph {
			if g.num != graphNode {
				continue
			}
			node, err := parse(g.val)
			if err != nil {
				return nil, fmt.Errorf("onnxfile: node: %w", err)
			}
			op := stringField(node, nodeOpType)
			if d := stringField(node, nodeDomain); d != "" && d != "ai.onnx" {
				op = d + ":" + op
			}
			counts[op]++
		}
	}
	return counts, nil
}
