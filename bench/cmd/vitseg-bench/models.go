package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/vitseg/vitseg/model"
	"github.com/vitseg/vitseg/model/inference"
)

// loadedModel is a model loaded in ONNX Runtime: a preset exported with random weights, or an ONNX file.
type loadedModel struct {
	name string
	cfg  model.Config
	onnx []byte // the exported or read model, kept only for -op-profile
	sess *inference.Session
}

type loadedModels []loadedModel

func (ms loadedModels) close() {
	for _, m := range ms {
		m.sess.Close() //nolint:errcheck
	}
}

// loadModels exports and loads each preset, then reads and loads each file, reporting the time it took on log.
func loadModels(rt *inference.Runtime, presets, files []string, f *inferenceFlags, log io.Writer) (loadedModels, error) {
	var models loadedModels
	add := func(name string, cfg model.Config, b []byte, start time.Time, how string) error {
		sess, err := rt.Load(b, inference.Options{Device: inference.DeviceCPU, IntraOpThreads: f.threads})
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		m := loadedModel{name: name, cfg: cfg, sess: sess}
		if f.opProfileBatch > 0 {
			m.onnx = b // the article model's bytes are 345 MB: kept only when -op-profile loads it again
		}
		models = append(models, m)
		fmt.Fprintf(log, "%s and loaded %s (%d parameters, %.2f GFLOP/image, %.1f MB) in %s\n", how, name,
			cfg.NumParams(), cfg.FLOPsPerImage()/1e9, float64(len(b))/1e6, time.Since(start).Round(time.Millisecond))
		return nil
	}
	for _, name := range presets {
		start := time.Now()
		cfg, err := model.Preset(name)
		if err == nil {
			var b []byte
			if b, err = exportRandom(cfg, name, f.seed); err == nil {
				err = add(name, cfg, b, start, "exported")
			}
		}
		if err != nil {
			models.close()
			return nil, err
		}
	}
	for _, path := range files {
		start := time.Now()
		b, err := os.ReadFile(path)
		var meta model.Metadata
		if err == nil {
			meta, err = model.ReadMetadata(b)
		}
		if err == nil {
			err = add(fileModelName(path), meta.Config, b, start, "read")
		}
		if err != nil {
			models.close()
			return nil, fmt.Errorf("-models %s: %w", path, err)
		}
	}
	return models, nil
}

// fileModelName names the model of an ONNX file by its last two folders: model/zoo/small/model.onnx (the
// shipped model) is "zoo/small".
func fileModelName(path string) string {
	dir := filepath.Dir(path)
	return filepath.Base(filepath.Dir(dir)) + "/" + filepath.Base(dir)
}
