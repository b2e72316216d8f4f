package main

// GoMLX's ONNX Runtime backend (onnx:cpu, onnx:cuda), imported here so that a plain `go build ./cmd/vitseg` or
// `go install github.com/vitseg/vitseg/cmd/vitseg@...` has it: GoMLX's default set adds it only with the onnx
// build tag.
import _ "github.com/gomlx/compute-onnx"
