package vit

import (
	"github.com/gomlx/compute"
	gomlx "github.com/gomlx/gomlx/ml/model"

	"github.com/vitseg/vitseg/model"
	"github.com/vitseg/vitseg/model/graphexport"
)

// Export serialises the network with the weights of store as an ONNX model with a dynamic batch axis and meta
// stored in its metadata_props. backend must be GoMLX's ONNX Runtime backend (build tag onnx).
func Export(backend compute.Backend, net *Network, store *gomlx.Store, meta model.Metadata) ([]byte, error) {
	return graphexport.Export(backend, net.Forward, net.Config, store, meta, net.NetworkDims())
}

// InferenceExec returns an executor of the forward pass in inference mode (no dropout, BatchNorm running
// statistics). Variables missing from store are initialised.
func (n *Network) InferenceExec(backend compute.Backend, store *gomlx.Store) (*gomlx.Exec, error) {
	return graphexport.InferenceExec(backend, store, n.Forward)
}

// NetworkDims are the dimensions of the network's tensors other than the batch.
func (n *Network) NetworkDims() []int {
	c := n.Config
	dims := []int{c.ImageSize, c.PatchSize, c.InChannels, c.Classes, c.EmbedSize, 3 * c.EmbedSize, 4 * c.EmbedSize,
		c.Heads, c.HeadDim(), c.NumPatches(), c.ImageSize / c.PatchSize, c.PatchDim(), c.OutPatchDim(), c.Blocks, c.HeadHidden}
	dims = append(dims, c.StemChannels()...)
	for _, s := range c.DecoderStages() {
		dims = append(dims, s.Side, s.In, s.Out)
	}
	return dims
}
