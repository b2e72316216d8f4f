// Package network picks the GoMLX definition of a model.Config's architecture: the article's ViT (package
// model/vit) or SegFormer (package model/segformer), behind one interface for training, export and summaries.
package network

import (
	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	gomlx "github.com/gomlx/gomlx/ml/model"

	"github.com/vitseg/vitseg/model"
	"github.com/vitseg/vitseg/model/graphexport"
	"github.com/vitseg/vitseg/model/segformer"
	"github.com/vitseg/vitseg/model/vit"
)

// Network is a segmentation network defined once in GoMLX.
type Network interface {
	// Forward is the model function: images [B, C, H, W] (0..1) -> logits [B, classes, H, W].
	Forward(scope *gomlx.Scope, images *graph.Node) *graph.Node
	// InferenceExec returns an executor of Forward in inference mode.
	InferenceExec(backend compute.Backend, store *gomlx.Store) (*gomlx.Exec, error)
	// ModelConfig is the network's configuration.
	ModelConfig() model.Config
	// NetworkDims are the dimensions of the network's tensors other than the batch (see graphexport.Export).
	NetworkDims() []int
	// setTracer makes Forward report the shape of every stage to tr.
	setTracer(tr graphexport.Tracer)
}

type vitNet struct{ *vit.Network }

func (n vitNet) ModelConfig() model.Config { return n.Config }

func (n vitNet) setTracer(tr graphexport.Tracer) { n.Trace = tr }

type segformerNet struct{ *segformer.Network }

func (n segformerNet) ModelConfig() model.Config { return n.Config }

func (n segformerNet) setTracer(tr graphexport.Tracer) { n.Trace = tr }

// New returns the network of cfg's architecture.
func New(cfg model.Config) (Network, error) {
	if cfg.Architecture == model.ArchSegFormer {
		n, err := segformer.New(cfg)
		if err != nil {
			return nil, err
		}
		return segformerNet{n}, nil
	}
	n, err := vit.New(cfg)
	if err != nil {
		return nil, err
	}
	return vitNet{n}, nil
}

// Export serialises net with the weights of store as an ONNX model with a dynamic batch axis and meta stored in
// its metadata_props. backend must be GoMLX's ONNX Runtime backend (build tag onnx).
func Export(backend compute.Backend, net Network, store *gomlx.Store, meta model.Metadata) ([]byte, error) {
	return graphexport.Export(backend, net.Forward, net.ModelConfig(), store, meta, net.NetworkDims())
}

// TraceShapes returns the output shape of every stage of cfg's network for a batch of the given size, by building
// (not running) the graph.
func TraceShapes(cfg model.Config, batch int) ([]model.Stage, error) {
	net, err := New(cfg)
	if err != nil {
		return nil, err
	}
	return graphexport.TraceShapes(cfg, batch, func(tr graphexport.Tracer) graphexport.Forward {
		net.setTracer(tr)
		return net.Forward
	})
}

// CountTrainableParams builds cfg's network and counts the elements of its trainable variables.
func CountTrainableParams(cfg model.Config) (int, error) {
	net, err := New(cfg)
	if err != nil {
		return 0, err
	}
	return graphexport.CountTrainableParams(cfg, net.Forward)
}
