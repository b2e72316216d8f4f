package training

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gomlx/gomlx/ml/model/checkpoint"
	"go.uber.org/zap"

	"github.com/vitseg/vitseg/internal/atomicfile"
)

const progressFile = "progress.json"

func (t *Trainer) openCheckpoint() (Progress, error) {
	var prog Progress
	if t.CheckpointDir == "" {
		return prog, nil
	}
	h, err := checkpoint.Build(t.Store).Dir(t.CheckpointDir).Keep(2).Immediate().Done()
	if err != nil {
		return prog, fmt.Errorf("open checkpoint dir %s: %w", t.CheckpointDir, err)
	}
	t.ckpt = h
	b, err := os.ReadFile(filepath.Join(t.CheckpointDir, progressFile))
	if errors.Is(err, os.ErrNotExist) {
		return prog, nil
	}
	if err != nil {
		return prog, fmt.Errorf("read checkpoint progress: %w", err)
	}
	if err := json.Unmarshal(b, &prog); err != nil {
		return prog, fmt.Errorf("decode checkpoint progress: %w", err)
	}
	if t.ema != nil {
		if err := t.ema.load(t.CheckpointDir); err != nil {
			return prog, err
		}
	}
	t.Logger.Info("resuming from checkpoint", zap.String("dir", t.CheckpointDir),
		zap.Int("completed_epochs", prog.Epoch), zap.Int("completed_steps", prog.Step))
	return prog, nil
}

func (t *Trainer) saveCheckpoint(prog Progress) error {
	if t.ckpt == nil {
		return nil
	}
	if err := t.ckpt.Save(); err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	if t.ema != nil {
		if err := t.ema.save(t.CheckpointDir); err != nil {
			return err
		}
	}
	b, err := json.MarshalIndent(prog, "", "  ")
	if err != nil {
		return fmt.Errorf("encode checkpoint progress: %w", err)
	}
	if err := atomicfile.WriteBytes(filepath.Join(t.CheckpointDir, progressFile), b, 0o644); err != nil {
		return fmt.Errorf("checkpoint progress: %w", err)
	}
	return nil
}

func (t *Trainer) interrupted(prog Progress, cause error) error {
	if err := t.saveCheckpoint(prog); err != nil {
		return errors.Join(cause, err)
	}
	t.Logger.Info("training interrupted, checkpoint saved", zap.Int("epoch", prog.Epoch+1), zap.Int("step", prog.Step))
	return fmt.Errorf("training interrupted at epoch %d step %d (checkpoint saved): %w", prog.Epoch+1, prog.Step, cause)
}
