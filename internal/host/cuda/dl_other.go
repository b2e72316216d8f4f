//go:build !linux

package cuda

import "errors"

var errNotLinux = errors.New("the CUDA provider is supported on Linux only")

func findLibrary(req Requirement) Library { return Library{Requirement: req, Err: errNotLinux} }

func probeDevices(r *Report) { r.DeviceErr = errNotLinux }

// PreloadRuntime fails outside Linux.
func PreloadRuntime() error { return errNotLinux }
