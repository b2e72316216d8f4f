package training

import (
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"
	gomlx "github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train/optimizer"

	"github.com/vitseg/vitseg/internal/atomicfile"
)

// weightAverage is an exponential moving average of the model's state (Polyak averaging, as timm's ModelEma):
// after every step, shadow = d*shadow + (1-d)*weights, with d = min(Decay, (1+n)/(10+n)) after n updates so
// that short runs are not dominated by the initial weights. Every float32 variable outside the optimizer's
// state (the optimizers scope, and Adam's moments and step counter, which GoMLX keeps under the root scope
// AdamOptimizer) is averaged: the trainable weights and the BatchNorm running statistics alike (as timm averages a
// model's buffers). Statistics collected under the live weights do not fit the averaged ones: a BatchNorm
// after learned layers (SegFormer's decoder) evaluated that way swung by tens of points from epoch to epoch.
type weightAverage struct {
	Decay   float64
	Updates int
	Shadow  map[string][]float32 // by variable path
}

func newWeightAverage(decay float64) *weightAverage {
	return &weightAverage{Decay: decay, Shadow: map[string][]float32{}}
}

// averaged lists the variables of store that the average covers.
func averaged(store *gomlx.Store) []*gomlx.Variable {
	var vars []*gomlx.Variable
	opt := gomlx.ScopeSeparator + optimizer.Scope
	adam := gomlx.ScopeSeparator + optimizer.AdamDefaultScope + gomlx.ScopeSeparator
	for v := range store.IterVariables() {
		if p := v.Path(); v.DType() == dtypes.Float32 && !strings.HasPrefix(p, opt) && !strings.HasPrefix(p, adam) {
			vars = append(vars, v)
		}
	}
	return vars
}

// update folds the current weights of store into the average.
func (a *weightAverage) update(store *gomlx.Store) error {
	d := float32(min(a.Decay, float64(1+a.Updates)/float64(10+a.Updates)))
	for _, v := range averaged(store) {
		value, err := v.Value()
		if err != nil {
			return fmt.Errorf("EMA: read %s: %w", v.Path(), err)
		}
		w := tensors.MustCopyFlatData[float32](value)
		s, ok := a.Shadow[v.Path()]
		if !ok || len(s) != len(w) {
			a.Shadow[v.Path()] = w
			continue
		}
		for i, x := range w {
			s[i] = d*s[i] + (1-d)*x
		}
	}
	a.Updates++
	return nil
}

// swap exchanges the weights of store with the average: called twice, it restores store.
func (a *weightAverage) swap(store *gomlx.Store) error {
	for _, v := range averaged(store) {
		s, ok := a.Shadow[v.Path()]
		if !ok {
			continue
		}
		value, err := v.Value()
		if err != nil {
			return fmt.Errorf("EMA: read %s: %w", v.Path(), err)
		}
		current := tensors.MustCopyFlatData[float32](value)
		if err := v.SetValue(tensors.FromFlatDataAndDimensions(slices.Clone(s), v.Shape().Dimensions...)); err != nil {
			return fmt.Errorf("EMA: set %s: %w", v.Path(), err)
		}
		a.Shadow[v.Path()] = current
	}
	return nil
}

const emaFile = "ema.gob"

func (a *weightAverage) save(dir string) error {
	err := atomicfile.Write(filepath.Join(dir, emaFile), 0o644, func(w io.Writer) error { return gob.NewEncoder(w).Encode(a) })
	if err != nil {
		return fmt.Errorf("EMA checkpoint: %w", err)
	}
	return nil
}

// load reads the average saved in dir, if any; it keeps a's decay.
func (a *weightAverage) load(dir string) error {
	f, err := os.Open(filepath.Join(dir, emaFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read EMA checkpoint: %w", err)
	}
	defer f.Close()
	var saved weightAverage
	if err := gob.NewDecoder(f).Decode(&saved); err != nil {
		return fmt.Errorf("decode EMA checkpoint: %w", err)
	}
	a.Updates, a.Shadow = saved.Updates, saved.Shadow
	return nil
}
