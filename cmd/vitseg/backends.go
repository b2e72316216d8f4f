package main

// GoMLX's ONNX Runtime backend (onnx:cpu, onnx:cuda), imported here so that every build has it: GoMLX's default
// set adds it only with the onnx build tag. (Its ONNX exporter needs the tag: see requireONNXExport.)
import _ "github.com/gomlx/compute-onnx"
