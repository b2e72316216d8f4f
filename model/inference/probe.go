package inference

import (
	"fmt"

	"go.uber.org/zap"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/vitseg/vitseg/model"
)

// CheckDevice creates (and closes) a session of a one-node model on device d, exactly as Load would, and returns
// the provider it got: the check of `vitseg doctor` and of a startup that wants to fail early.
func (r *Runtime) CheckDevice(d Device, log *zap.Logger) (string, error) {
	if log == nil {
		log = zap.NewNop()
	}
	sess, provider, err := r.newSession(identityModel(), Options{Device: d}, log)
	if err != nil {
		return "", err
	}
	if err := sess.Destroy(); err != nil {
		return "", fmt.Errorf("destroy the probe session: %w", err)
	}
	return provider, nil
}

// identityModel is an ONNX model with one Identity node from model.InputName to model.OutputName (float32 [1]),
// written with protowire (see package onnxfile for why there is no generated ONNX code here).
func identityModel() []byte {
	msg := func(num protowire.Number, b []byte) []byte {
		return protowire.AppendBytes(protowire.AppendTag(nil, num, protowire.BytesType), b)
	}
	str := func(num protowire.Number, s string) []byte { return msg(num, []byte(s)) }
	varint := func(num protowire.Number, v uint64) []byte {
		return protowire.AppendVarint(protowire.AppendTag(nil, num, protowire.VarintType), v)
	}
	cat := func(parts ...[]byte) []byte {
		var out []byte
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	// TypeProto{tensor_type: {elem_type: FLOAT, shape: {dim: [{dim_value: 1}]}}}
	tensorType := msg(1, cat(varint(1, 1), msg(2, msg(1, varint(1, 1)))))
	valueInfo := func(name string) []byte { return cat(str(1, name), msg(2, tensorType)) }
	node := cat(str(1, model.InputName), str(2, model.OutputName), str(4, "Identity"))
	graph := cat(msg(1, node), str(2, "vitseg-probe"), msg(11, valueInfo(model.InputName)),
		msg(12, valueInfo(model.OutputName)))
	// ModelProto{ir_version: 8, graph, opset_import: [{domain: "", version: 13}]}
	return cat(varint(1, 8), msg(7, graph), msg(8, cat(str(1, ""), varint(2, 13))))
}
