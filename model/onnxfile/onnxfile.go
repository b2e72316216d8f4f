// Package onnxfile edits serialized ONNX models at the protobuf wire level: it makes the batch axis of an
// exported graph dynamic, reads and writes the model's metadata_props, and rewrites the graph for ONNX Runtime
// (FuseForORT: single operators for the layer norms, softmaxes and GELUs, MatMuls for the attention Einsums).
//
// GoMLX exports a graph for one fixed input shape. The vitseg network only ever carries the batch size in the
// leading element of Reshape target shapes and in the "ends" of Slice nodes, so exporting with a batch size that
// equals no other dimension of the network makes every batch-dependent constant unambiguous: MakeBatchDynamic
// rewrites those constants (Reshape: -1, Slice end: INT64_MAX) and renames the leading axis of the graph inputs and
// outputs to a symbolic dimension. Anything it cannot rewrite safely is reported as an error, never guessed; the
// result is verified by the parity tests of package model/vit at several batch sizes.
//
// Working on the wire format keeps this package free of generated ONNX protobuf code, whose registration would
// conflict with the copy compiled into GoMLX's ONNX backend.
package onnxfile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"

	"google.golang.org/protobuf/encoding/protowire"
)

// Field numbers of onnx.proto (IR version 8+) used here.
const (
	modelGraph         = 7
	modelMetadataProps = 14

	graphNode        = 1
	graphInitializer = 5
	graphInput       = 11
	graphOutput      = 12
	graphValueInfo   = 13

	nodeInput  = 1
	nodeOpType = 4
	nodeDomain = 7

	tensorDims     = 1
	tensorDataType = 2
	tensorInt64    = 7
	tensorName     = 8
	tensorRaw      = 9

	valueInfoType   = 2
	typeTensor      = 1
	tensorTypeShape = 2
	shapeDim        = 1
	dimValue        = 1
	dimParam        = 2

	entryKey   = 1
	entryValue = 2

	dataTypeInt64 = 7
)

// ErrUnsupported reports a graph construct that MakeBatchDynamic cannot rewrite safely.
var ErrUnsupported = errors.New("onnxfile: unsupported graph for a dynamic batch")

// field is one protobuf field: its number, wire type and value bytes (the payload, without the length prefix, for
// length-delimited fields).
type field struct {
	num protowire.Number
	typ protowire.Type
	val []byte
}

func parse(b []byte) ([]field, error) {
	var fields []field
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, fmt.Errorf("onnxfile: bad tag: %w", protowire.ParseError(n))
		}
		b = b[n:]
		if typ == protowire.BytesType {
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return nil, fmt.Errorf("onnxfile: bad field %d: %w", num, protowire.ParseError(n))
			}
			fields = append(fields, field{num, typ, v})
			b = b[n:]
			continue
		}
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return nil, fmt.Errorf("onnxfile: bad field %d: %w", num, protowire.ParseError(n))
		}
		fields = append(fields, field{num, typ, b[:n]})
		b = b[n:]
	}
	return fields, nil
}

func marshal(fields []field) []byte {
	var out []byte
	for _, f := range fields {
		out = protowire.AppendTag(out, f.num, f.typ)
		if f.typ == protowire.BytesType {
			out = protowire.AppendBytes(out, f.val)
		} else {
			out = append(out, f.val...)
		}
	}
	return out
}

// editField applies fn to the payload of every length-delimited field numbered num.
func editField(fields []field, num protowire.Number, fn func([]byte) ([]byte, error)) error {
	for i := range fields {
		if fields[i].num != num || fields[i].typ != protowire.BytesType {
			continue
		}
		v, err := fn(fields[i].val)
		if err != nil {
			return err
		}
		fields[i].val = v
	}
	return nil
}

func stringField(fields []field, num protowire.Number) string {
	for _, f := range fields {
		if f.num == num && f.typ == protowire.BytesType {
			return string(f.val)
		}
	}
	return ""
}

// MakeBatchDynamic rewrites a model exported with batch size exportBatch so that it accepts any batch size:
// the leading axis of every graph input and output becomes the symbolic dimension dimName.
func MakeBatchDynamic(model []byte, exportBatch int, dimName string) ([]byte, error) {
	if exportBatch < 2 {
		return nil, fmt.Errorf("onnxfile: export batch %d must be at least 2 to be recognisable", exportBatch)
	}
	top, err := parse(model)
	if err != nil {
		return nil, err
	}
	err = editField(top, modelGraph, func(g []byte) ([]byte, error) {
		return dynamicGraph(g, int64(exportBatch), dimName)
	})
	if err != nil {
		return nil, err
	}
	return marshal(top), nil
}

func dynamicGraph(g []byte, batch int64, dimName string) ([]byte, error) {
	fields, err := parse(g)
	if err != nil {
		return nil, err
	}
	// Which initializers feed which op input.
	type use struct {
		op    string
		index int
	}
	uses := map[string][]use{}
	for _, f := range fields {
		if f.num != graphNode {
			continue
		}
		node, err := parse(f.val)
		if err != nil {
			return nil, err
		}
		op := stringField(node, nodeOpType)
		i := 0
		for _, nf := range node {
			if nf.num == nodeInput {
				uses[string(nf.val)] = append(uses[string(nf.val)], use{op, i})
				i++
			}
		}
	}

	var out []field
	for _, f := range fields {
		switch f.num {
		case graphValueInfo:
			continue // Intermediate shapes carry the fixed batch; ONNX Runtime infers them again.
		case graphInput, graphOutput:
			v, err := dynamicValueInfo(f.val, batch, dimName)
			if err != nil {
				return nil, err
			}
			f.val = v
		case graphInitializer:
			t, err := parse(f.val)
			if err != nil {
				return nil, err
			}
			name := stringField(t, tensorName)
			for _, u := range uses[name] {
				var v []byte
				switch {
				case u.op == "Reshape" && u.index == 1:
					v, err = rewriteShapeTensor(t, name, batch, -1)
				case u.op == "Slice" && u.index == 2:
					v, err = rewriteShapeTensor(t, name, batch, math.MaxInt64)
				case u.op == "Expand" || u.op == "ConstantOfShape" || u.op == "Tile":
					err = fmt.Errorf("%w: initializer %q feeds %s", ErrUnsupported, name, u.op)
				default:
					err = checkNoBatchDims(t, name, batch)
				}
				if err != nil {
					return nil, err
				}
				if v != nil {
					f.val = v
					t, _ = parse(v)
				}
			}
		}
		out = append(out, f)
	}
	return marshal(out), nil
}

// dynamicValueInfo replaces dim 0 (which must equal batch) of a graph input/output by the symbolic dimName.
func dynamicValueInfo(vi []byte, batch int64, dimName string) ([]byte, error) {
	fields, err := parse(vi)
	if err != nil {
		return nil, err
	}
	err = editField(fields, valueInfoType, func(tp []byte) ([]byte, error) {
		typ, err := parse(tp)
		if err != nil {
			return nil, err
		}
		err = editField(typ, typeTensor, func(tt []byte) ([]byte, error) {
			tensor, err := parse(tt)
			if err != nil {
				return nil, err
			}
			err = editField(tensor, tensorTypeShape, func(sh []byte) ([]byte, error) {
				shape, err := parse(sh)
				if err != nil {
					return nil, err
				}
				for i := range shape {
					if shape[i].num != shapeDim {
						continue
					}
					dim, err := parse(shape[i].val)
					if err != nil {
						return nil, err
					}
					v, ok := varintField(dim, dimValue)
					if !ok || int64(v) != batch {
						return nil, fmt.Errorf("%w: graph input/output %q has leading dimension %d, want %d",
							ErrUnsupported, stringField(fields, 1), int64(v), batch)
					}
					shape[i].val = marshal([]field{{dimParam, protowire.BytesType, []byte(dimName)}})
					break // Only the leading axis.
				}
				return marshal(shape), nil
			})
			return marshal(tensor), err
		})
		return marshal(typ), err
	})
	if err != nil {
		return nil, err
	}
	return marshal(fields), nil
}

func varintField(fields []field, num protowire.Number) (uint64, bool) {
	for _, f := range fields {
		if f.num == num && f.typ == protowire.VarintType {
			v, n := protowire.ConsumeVarint(f.val)
			return v, n > 0
		}
	}
	return 0, false
}

// int64Values decodes a 1-D int64 initializer (raw_data or int64_data).
func int64Values(t []field) ([]int64, bool) {
	if v, _ := varintField(t, tensorDataType); v != dataTypeInt64 {
		return nil, false
	}
	for _, f := range t {
		switch {
		case f.num == tensorRaw:
			if len(f.val)%8 != 0 {
				return nil, false
			}
			vals := make([]int64, len(f.val)/8)
			for i := range vals {
				vals[i] = int64(binary.LittleEndian.Uint64(f.val[8*i:]))
			}
			return vals, true
		case f.num == tensorInt64 && f.typ == protowire.BytesType:
			var vals []int64
			b := f.val
			for len(b) > 0 {
				v, n := protowire.ConsumeVarint(b)
				if n < 0 {
					return nil, false
				}
				vals = append(vals, int64(v))
				b = b[n:]
			}
			return vals, true
		}
	}
	return nil, false
}

// rewriteShapeTensor replaces the leading element of a shape-like int64 initializer, when it is the batch size,
// by replacement, storing the result as raw_data. It returns nil for a batch-independent shape.
func rewriteShapeTensor(t []field, name string, batch, replacement int64) ([]byte, error) {
	vals, ok := int64Values(t)
	if !ok || len(vals) == 0 {
		return nil, fmt.Errorf("%w: shape initializer %q is not a 1-D int64 tensor", ErrUnsupported, name)
	}
	if vals[0] != batch {
		if slices.Contains(vals, batch) {
			return nil, fmt.Errorf("%w: shape initializer %q = %v holds the batch %d past its leading axis", ErrUnsupported, name, vals, batch)
		}
		return nil, nil // Batch-independent, e.g. a bias reshaped to [1, 1, E].
	}
	for _, v := range vals[1:] {
		if v == batch || (v == -1 && replacement == -1) {
			return nil, fmt.Errorf("%w: shape initializer %q = %v is ambiguous once the batch is dynamic", ErrUnsupported, name, vals)
		}
	}
	vals[0] = replacement
	raw := make([]byte, 8*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint64(raw[8*i:], uint64(v))
	}
	var out []field
	for _, f := range t {
		if f.num == tensorRaw || f.num == tensorInt64 {
			continue
		}
		out = append(out, f)
	}
	out = append(out, field{tensorRaw, protowire.BytesType, raw})
	return marshal(out), nil
}

// checkNoBatchDims refuses a data initializer whose leading dimension is the export batch: it would be a
// batch-sized constant that no longer matches a different batch.
func checkNoBatchDims(t []field, name string, batch int64) error {
	dims := tensorDimensions(t)
	if len(dims) >= 2 && dims[0] == batch {
		return fmt.Errorf("%w: initializer %q has a batch-sized leading dimension %v", ErrUnsupported, name, dims)
	}
	return nil
}

// tensorDimensions decodes a TensorProto's dims (packed or not).
func tensorDimensions(t []field) []int64 {
	var dims []int64
	for _, f := range t {
		if f.num != tensorDims {
			continue
		}
		if f.typ == protowire.VarintType {
			v, _ := protowire.ConsumeVarint(f.val)
			dims = append(dims, int64(v))
			continue
		}
		b := f.val
		for len(b) > 0 {
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				break
			}
			dims = append(dims, int64(v))
			b = b[n:]
		}
	}
	return dims
}
