package segformer

import (
	"slices"

	"github.com/gomlx/compute"
	gomlx "github.com/gomlx/gomlx/ml/model"

	"github.com/vitseg/vitseg/model"
	"github.com/vitseg/vitseg/model/graphexport"
)

// Export serialises the network with the weights of store as an ONNX model with a dynamic batch axis and meta
// stored in its metadata_props. backend must be GoMLX's ONNX Runtime backend (build tag onnx).
func Export(backend compute.Backend, net *Network, store *gomlx.Store, meta model.Metadata) ([]byte, error) {
	return graphexport.Export(backend, net.Forward, net.Config, store, meta, networkDims(net.Config))
}

// InferenceExec returns an executor of the forward pass in inference mode.
func (n *Network) InferenceExec(backend compute.Backend, store *gomlx.Store) (*gomlx.Exec, error) {
	return graphexport.InferenceExec(backend, store, n.Forward)
}

// networkDims are the dimensions of the network's tensors other than the batch: sides, channels, heads, head
// widths, kernels, sequence lengths.
func networkDims(c model.Config) []int {
	dims := []int{c.ImageSize, c.InChannels, c.Classes, model.SegFormerDecoderDim, 4 * model.SegFormerDecoderDim}
	side := c.ImageSize
	for _, s := range model.SegFormerB0() {
		side /= s.Stride
		reduced := side / s.Reduction
		dims = append(dims, side, side*side, reduced, reduced*reduced, s.Channels, s.Channels*model.SegFormerMLPRatio,
			s.Heads, s.Channels/s.Heads, s.Kernel, s.Stride, s.Reduction, 3)
	}
	return dims
}

// TraceShapes returns the output shape of every stage for a batch of the given size, by building (not running)
// the graph.
func TraceShapes(cfg model.Config, batch int) ([]model.Stage, error) {
	net, err := New(cfg)
	if err != nil {
		return nil, err
	}
	var stages []model.Stage
	net.Trace = func(stage string, dims []int) {
		stages = append(stages, model.Stage{Name: stage, Shape: slices.Clone(dims)})
	}
	if err := graphexport.BuildOnly(net.Forward, cfg, gomlx.NewStore(), batch); err != nil {
		return nil, err
	}
	return stages, nil
}

// CountTrainableParams builds the graph for cfg and counts the elements of its trainable variables.
func CountTrainableParams(cfg model.Config) (int, error) {
	net, err := New(cfg)
	if err != nil {
		return 0, err
	}
	store := gomlx.NewStore()
	if err := graphexport.BuildOnly(net.Forward, cfg, store, 1); err != nil {
		return 0, err
	}
	return graphexport.CountTrainableParams(store), nil
}
