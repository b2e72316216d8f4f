package vit

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	gomlx "github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/onnx"

	"github.com/vitseg/vitseg/model"
	"github.com/vitseg/vitseg/model/onnxfile"
)

// Export serialises the network with the weights of store as an ONNX model with a dynamic batch axis and meta
// stored in its metadata_props. backend must be GoMLX's ONNX Runtime backend (build tag onnx).
func Export(backend compute.Backend, net *Network, store *gomlx.Store, meta model.Metadata) ([]byte, error) {
	exec, err := net.InferenceExec(backend, store)
	if err != nil {
		return nil, err
	}
	batch := exportBatch(net.Config)
	c := net.Config
	input := shapes.Make(dtypes.Float32, batch, c.InChannels, c.ImageSize, c.ImageSize)
	// Run once so that every variable exists and holds a value: the exporter embeds them as constants.
	warm, err := exec.Call(tensors.FromShape(shapes.Make(dtypes.Float32, 1, c.InChannels, c.ImageSize, c.ImageSize)))
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
	meta.Config = c
	meta.ClassNames = model.ClassNames()
	meta.Params = c.NumParams()
	return model.WriteMetadata(b, meta)
}

// InferenceExec returns an executor of the forward pass in inference mode (no dropout, BatchNorm running
// statistics). Variables missing from store are initialised.
func (n *Network) InferenceExec(backend compute.Backend, store *gomlx.Store) (*gomlx.Exec, error) {
	exec, err := gomlx.NewExec(backend, store, func(scope *gomlx.Scope, images *graph.Node) *graph.Node {
		return n.Forward(scope, images)
	})
	if err != nil {
		return nil, fmt.Errorf("create inference executor: %w", err)
	}
	return exec, nil
}

// exportBatch picks the batch size to export with: the smallest prime that equals no dimension of the network,
// so that MakeBatchDynamic can tell batch-carrying constants apart.
func exportBatch(c model.Config) int {
	dims := []int{c.ImageSize, c.PatchSize, c.InChannels, c.Classes, c.EmbedSize, 3 * c.EmbedSize, 4 * c.EmbedSize,
		c.Heads, c.HeadDim(), c.NumPatches(), c.ImageSize / c.PatchSize, c.PatchDim(), c.OutPatchDim(), c.Blocks, c.HeadHidden}
	for _, p := range []int{7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47} {
		if !slices.Contains(dims, p) {
			return p
		}
	}
	return 53
}
