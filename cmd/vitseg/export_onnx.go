//go:build onnx

package main

// requireONNXExport is nil: this binary has GoMLX's ONNX exporter (build tag onnx).
func requireONNXExport(string) error { return nil }
