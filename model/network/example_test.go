package network_test

import (
	"fmt"

	"github.com/vitseg/vitseg/model"
	"github.com/vitseg/vitseg/model/network"
)

func ExampleTraceShapes() {
	cfg, _ := model.Preset(model.PresetSegFormer)
	stages, err := network.TraceShapes(cfg, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range stages {
		fmt.Println(s)
	}
	params, _ := network.CountTrainableParams(cfg)
	fmt.Println("parameters:", params, params == cfg.NumParams())
	// Output:
	// input (1, 3, 128, 128)
	// stage_1 (1, 32, 32, 32)
	// stage_2 (1, 64, 16, 16)
	// stage_3 (1, 160, 8, 8)
	// stage_4 (1, 256, 4, 4)
	// decoder_fuse (1, 256, 32, 32)
	// decoder_logits (1, 3, 32, 32)
	// upsample (1, 3, 128, 128)
	// parameters: 3714921 true
}
