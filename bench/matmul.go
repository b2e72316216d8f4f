package bench

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"

	ort "github.com/yalue/onnxruntime_go"
	"google.golang.org/protobuf/encoding/protowire"
)

// Field numbers of onnx.proto used by MatMulModel.
const (
	pbModelIRVersion    = 1
	pbModelProducerName = 2
	pbModelGraph        = 7
	pbModelOpsetImport  = 8
	pbOpsetVersion      = 2
	pbGraphNode         = 1
	pbGraphName         = 2
	pbGraphInput        = 11
	pbGraphOutput       = 12
	pbNodeInput         = 1
	pbNodeOutput        = 2
	pbNodeName          = 3
	pbNodeOpType        = 4
	pbValueInfoName     = 1
	pbValueInfoType     = 2
	pbTypeTensor        = 1
	pbTensorElemType    = 1
	pbTensorShape       = 2
	pbShapeDim          = 1
	pbDimValue          = 1

	onnxFloat    = 1  // TensorProto.FLOAT
	onnxIR       = 8  // IR version
	onnxOpset    = 17 // default-domain opset
	matMulInputA = "a"
	matMulInputB = "b"
	matMulOutput = "c"
)

// MatMulModel returns a serialized ONNX model with one MatMul node: c[m, n] = a[m, k] · b[k, n], float32.
func MatMulModel(m, k, n int) []byte {
	valueInfo := func(name string, dims ...int) []byte {
		var shape []byte
		for _, d := range dims {
			var dim []byte
			dim = protowire.AppendTag(dim, pbDimValue, protowire.VarintType)
			dim = protowire.AppendVarint(dim, uint64(d))
			shape = appendBytesField(shape, pbShapeDim, dim)
		}
		var tensor []byte
		tensor = protowire.AppendTag(tensor, pbTensorElemType, protowire.VarintType)
		tensor = protowire.AppendVarint(tensor, onnxFloat)
		tensor = appendBytesField(tensor, pbTensorShape, shape)
		var b []byte
		b = appendBytesField(b, pbValueInfoName, []byte(name))
		return appendBytesField(b, pbValueInfoType, appendBytesField(nil, pbTypeTensor, tensor))
	}
	var node []byte
	node = appendBytesField(node, pbNodeInput, []byte(matMulInputA))
	node = appendBytesField(node, pbNodeInput, []byte(matMulInputB))
	node = appendBytesField(node, pbNodeOutput, []byte(matMulOutput))
	node = appendBytesField(node, pbNodeName, []byte("matmul"))
	node = appendBytesField(node, pbNodeOpType, []byte("MatMul"))

	var graph []byte
	graph = appendBytesField(graph, pbGraphNode, node)
	graph = appendBytesField(graph, pbGraphName, []byte("matmul_ceiling"))
	graph = appendBytesField(graph, pbGraphInput, valueInfo(matMulInputA, m, k))
	graph = appendBytesField(graph, pbGraphInput, valueInfo(matMulInputB, k, n))
	graph = appendBytesField(graph, pbGraphOutput, valueInfo(matMulOutput, m, n))

	var opset []byte
	opset = protowire.AppendTag(opset, pbOpsetVersion, protowire.VarintType)
	opset = protowire.AppendVarint(opset, onnxOpset)

	var model []byte
	model = protowire.AppendTag(model, pbModelIRVersion, protowire.VarintType)
	model = protowire.AppendVarint(model, onnxIR)
	model = appendBytesField(model, pbModelProducerName, []byte("vitseg-bench"))
	model = appendBytesField(model, pbModelGraph, graph)
	return appendBytesField(model, pbModelOpsetImport, opset)
}

func appendBytesField(b []byte, num protowire.Number, v []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, v)
}

// MatMul runs one ONNX Runtime MatMul of fixed size on random inputs: the practical GEMM ceiling of the machine
// for the same runtime and thread count the model runs with. ONNX Runtime must be initialised (inference.Open).
type MatMul struct {
	M, K, N int
	sess    *ort.AdvancedSession
	a, b, c *ort.Tensor[float32]
}

// MatMulOptions configures the MatMul's ONNX Runtime session.
type MatMulOptions struct {
	IntraOpThreads int  // 0: ONNX Runtime's default (one per physical core)
	NoSpinning     bool // session.intra_op.allow_spinning=0: idle pool threads sleep instead of busy-waiting
}

// NewMatMul creates the session and random inputs.
func NewMatMul(m, k, n int, opts MatMulOptions, seed uint64) (*MatMul, error) {
	if m <= 0 || k <= 0 || n <= 0 {
		return nil, fmt.Errorf("matmul: dimensions must be positive, got %dx%dx%d", m, k, n)
	}
	r := rand.New(rand.NewPCG(seed, 1))
	fill := func(size int) []float32 {
		v := make([]float32, size)
		for i := range v {
			v[i] = r.Float32()*2 - 1
		}
		return v
	}
	mm := &MatMul{M: m, K: k, N: n}
	var err error
	if mm.a, err = ort.NewTensor(ort.NewShape(int64(m), int64(k)), fill(m*k)); err != nil {
		return nil, fmt.Errorf("matmul input a: %w", err)
	}
	if mm.b, err = ort.NewTensor(ort.NewShape(int64(k), int64(n)), fill(k*n)); err != nil {
		mm.Close() //nolint:errcheck
		return nil, fmt.Errorf("matmul input b: %w", err)
	}
	if mm.c, err = ort.NewEmptyTensor[float32](ort.NewShape(int64(m), int64(n))); err != nil {
		mm.Close() //nolint:errcheck
		return nil, fmt.Errorf("matmul output: %w", err)
	}
	so, err := ort.NewSessionOptions()
	if err != nil {
		mm.Close() //nolint:errcheck
		return nil, fmt.Errorf("matmul session options: %w", err)
	}
	defer so.Destroy()
	if opts.IntraOpThreads > 0 {
		if err := so.SetIntraOpNumThreads(opts.IntraOpThreads); err != nil {
			mm.Close() //nolint:errcheck
			return nil, fmt.Errorf("matmul intra-op threads: %w", err)
		}
	}
	if opts.NoSpinning {
		if err := so.AddSessionConfigEntry("session.intra_op.allow_spinning", "0"); err != nil {
			mm.Close() //nolint:errcheck
			return nil, fmt.Errorf("matmul spinning: %w", err)
		}
	}
	mm.sess, err = ort.NewAdvancedSessionWithONNXData(MatMulModel(m, k, n),
		[]string{matMulInputA, matMulInputB}, []string{matMulOutput},
		[]ort.Value{mm.a, mm.b}, []ort.Value{mm.c}, so)
	if err != nil {
		mm.Close() //nolint:errcheck
		return nil, fmt.Errorf("matmul session: %w", err)
	}
	return mm, nil
}

// FLOPs is the work of one Run: a multiply-add counts as 2.
func (mm *MatMul) FLOPs() float64 { return 2 * float64(mm.M) * float64(mm.K) * float64(mm.N) }

// Run computes the product once.
func (mm *MatMul) Run(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := mm.sess.Run(); err != nil {
		return fmt.Errorf("matmul run: %w", err)
	}
	return nil
}

// Inputs returns the input matrices (row-major) and Output the last result, for verification.
func (mm *MatMul) Inputs() (a, b []float32) { return mm.a.GetData(), mm.b.GetData() }

// Output returns the last product, row-major.
func (mm *MatMul) Output() []float32 { return mm.c.GetData() }

// Close releases the session and tensors.
func (mm *MatMul) Close() error {
	var errs []error
	if mm.sess != nil {
		errs = append(errs, mm.sess.Destroy())
	}
	for _, t := range []*ort.Tensor[float32]{mm.a, mm.b, mm.c} {
		if t != nil {
			errs = append(errs, t.Destroy())
		}
	}
	return errors.Join(errs...)
}
