//go:build !onnx

package main

import "fmt"

// requireONNXExport fails: GoMLX compiles its ONNX exporter only with the onnx build tag, so this binary can
// serve, segment and evaluate ONNX models but not create them.
func requireONNXExport(command string) error {
	return fmt.Errorf("vitseg %s exports ONNX with GoMLX, which this binary was built without: build it with the "+
		"onnx tag (go build -tags onnx ./cmd/vitseg, or go install -tags onnx github.com/vitseg/vitseg/cmd/vitseg@VERSION)",
		command)
}
