package main

import (
	"context"
	"flag"

	"go.uber.org/zap"

	"github.com/vitseg/vitseg/model/inference"
	"github.com/vitseg/vitseg/training"
)

// deviceFlag is --device, with one meaning for serve, segment, eval and train: cpu; cuda (fail at startup,
// naming the missing piece, when CUDA cannot run); auto (CUDA when it can run, else the CPU, logging why not).
type deviceFlag struct {
	name string
}

func (d *deviceFlag) register(fs *flag.FlagSet) {
	fs.StringVar(&d.name, "device", string(inference.DeviceAuto), "cpu, cuda (ONNX Runtime's CUDA provider; "+
		"fail at startup when it cannot run) or auto (CUDA when it can run, else the CPU); `vitseg doctor` explains")
}

func (d *deviceFlag) device() (inference.Device, error) {
	dev, err := inference.ParseDevice(d.name)
	if err != nil {
		return "", usagef("--device: %v", err)
	}
	return dev, nil
}

// resolve decides the inference device once, at startup, with a one-node session: cuda fails here, naming the
// missing piece, instead of at the first model load; auto becomes cuda or cpu (logging why not cuda), so that
// later model loads (hot swaps) neither retry CUDA nor log the fallback again.
func (d *deviceFlag) resolve(rt *inference.Runtime, log *zap.Logger) (inference.Device, error) {
	dev, err := d.device()
	if err != nil || dev == inference.DeviceCPU {
		return dev, err
	}
	provider, err := rt.CheckDevice(dev, log)
	if err != nil {
		return "", err
	}
	if provider == inference.ProviderCUDA {
		return inference.DeviceCUDA, nil
	}
	return inference.DeviceCPU, nil
}

// gomlxBackend is the GoMLX backend that trains on the device (see training.Backend); an explicit backend
// (--backend) is taken as it is.
func (d *deviceFlag) gomlxBackend(ctx context.Context, rt *inference.Runtime, explicit string, log *zap.Logger) (string, error) {
	if explicit != "" {
		return explicit, nil
	}
	dev, err := d.device()
	if err != nil {
		return "", err
	}
	return training.Backend(ctx, rt, dev, log)
}
