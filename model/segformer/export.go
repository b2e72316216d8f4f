package segformer

import (
	"github.com/gomlx/compute"
	gomlx "github.com/gomlx/gomlx/ml/model"

	"github.com/vitseg/vitseg/model"
	"github.com/vitseg/vitseg/model/graphexport"
)

// InferenceExec returns an executor of the forward pass in inference mode.
func (n *Network) InferenceExec(backend compute.Backend, store *gomlx.Store) (*gomlx.Exec, error) {
	return graphexport.InferenceExec(backend, store, n.Forward)
}

// NetworkDims are the dimensions of the network's tensors other than the batch: sides, channels, heads, head
// widths, kernels, sequence lengths.
func (n *Network) NetworkDims() []int {
	c := n.Config
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
