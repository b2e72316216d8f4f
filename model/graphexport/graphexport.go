// Package graphexport is what every vitseg architecture shares to run and ship its GoMLX graph: the inference
// executor, the export to ONNX with a dynamic batch axis and vitseg's metadata, and graph building without
// running (for shape traces and parameter counts).
package graphexport

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/gobackend"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	gomlx "github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/onnx"

	"github.com/vitseg/vitseg/model"
	"github.com/vitseg/vitseg/model/onnxfile"
)

// Forward is a model function: images [B, C, H, W] (float32, 0..1) -> logits [B, classes, H, W].
type Forward func(scope *gomlx.Scope, images *graph.Node) *graph.Node

// InferenceExec returns an executor of forward in inference mode (no dropout, BatchNorm running statistics).
// Variables missing from store are initialised.
func InferenceExec(backend compute.Backend, store *gomlx.Store, forward Forward) (*gomlx.Exec, error) {
	exec, err := gomlx.NewExec(backend, store, func(scope *gomlx.Scope, images *graph.Node) *graph.Node {
		return forward(scope, images)
	})
	if err != nil {
		return nil, fmt.Errorf("create inference executor: %w", err)
	}
	return exec, nil
}

// Export serialises forward with the weights of store as an ONNX model for cfg's input, with a dynamic batch axis
// and meta stored in its metadata_props. backend must be GoMLX's ONNX Runtime backend (build tag onnx). networkDims
// are the network's own dimensions: the batch size exported with is a prime none of them equals, so that
// MakeBatchDynamic can tell batch-carrying constants apart.
func Export(backend compute.Backend, forward Forward, cfg model.Config, store *gomlx.Store, meta model.Metadata, networkDims []int) ([]byte, error) {
	exec, err := InferenceExec(backend, store, forward)
	if err != nil {
		return nil, err
	}
	batch := exportBatch(networkDims)
	input := shapes.Make(dtypes.Float32, batch, cfg.InChannels, cfg.ImageSize, cfg.ImageSize)
	// Run once so that every variable exists and holds a value: the exporter embeds them as constants.
	warm, err := exec.Call(tensors.FromShape(shapes.Make(dtypes.Float32, 1, cfg.InChannels, cfg.ImageSize, cfg.ImageSize)))
	if err != nil {
		return nil, fmt.Errorf("initialise model variables: %w", err)
	}
	for _, t := range warm {
		t.FinalizeAll()
	}
	var buf bytes.Buffer
	if err := onnx.Save(backend, exec, &buf, []shapes.Shape{input}, []string{model.InputName}, []string{model.OutputName}); err != nil {
		return nil, fmt.Errorf("export ONNX graph: %w", err)
	}
	b, err := onnxfile.MakeBatchDynamic(buf.Bytes(), batch, model.BatchAxis)
	if err != nil {
		return nil, fmt.Errorf("make batch axis dynamic: %w", err)
	}
	meta.Config = cfg
	meta.ClassNames = model.ClassNames()
	meta.Params = cfg.NumParams()
	return model.WriteMetadata(b, meta)
}

// exportBatch is the smallest prime that equals none of dims.
func exportBatch(dims []int) int {
	for _, p := range []int{7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47} {
		if !slices.Contains(dims, p) {
			return p
		}
	}
	return 53
}

// BuildOnly builds forward for a batch of cfg's images on the pure-Go backend without compiling or running it,
// creating the variables in store.
func BuildOnly(forward Forward, cfg model.Config, store *gomlx.Store, batch int) (err error) {
	backend, err := gobackend.New("")
	if err != nil {
		return fmt.Errorf("create GoMLX backend: %w", err)
	}
	defer backend.Finalize()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("build graph: %v", r)
		}
	}()
	g := graph.NewGraph(backend, "trace")
	images := graph.Parameter(g, "images", shapes.Make(dtypes.Float32, batch, cfg.InChannels, cfg.ImageSize, cfg.ImageSize))
	forward(store.RootScope(), images)
	return nil
}

// Tracer receives the name and output shape of each stage as a graph is built. It may be nil.
type Tracer func(stage string, dims []int)

// Record reports x's shape as the output of stage; it does nothing when t is nil.
func (t Tracer) Record(stage string, x *graph.Node) {
	if t != nil {
		t(stage, x.Shape().Dimensions)
	}
}

// TraceShapes returns the output shape of every stage that the forward function of newForward(tracer) reports,
// for a batch of the given size, by building (not running) the graph.
func TraceShapes(cfg model.Config, batch int, newForward func(Tracer) Forward) ([]model.Stage, error) {
	var stages []model.Stage
	forward := newForward(func(stage string, dims []int) {
		stages = append(stages, model.Stage{Name: stage, Shape: slices.Clone(dims)})
	})
	if err := BuildOnly(forward, cfg, gomlx.NewStore(), batch); err != nil {
		return nil, err
	}
	return stages, nil
}

// CountTrainableParams builds forward for cfg and counts the elements of its trainable float variables.
func CountTrainableParams(cfg model.Config, forward Forward) (int, error) {
	store := gomlx.NewStore()
	if err := BuildOnly(forward, cfg, store, 1); err != nil {
		return 0, err
	}
	total := 0
	for v := range store.IterVariables() {
		if v.Trainable && v.DType().IsFloat() {
			total += v.Shape().Size()
		}
	}
	return total, nil
}
