package pipeline_test

import "testing"

func TestStageOf(t *testing.T) {
	tests := []struct {
		name  string
		funcs []string
		want  string
	}{
		{"model run inside the infer stage", []string{"runtime.cgocall",
			"github.com/yalue/onnxruntime_go._Cfunc_RunOrtSessionWithOptions",
			"github.com/vitseg/vitseg/model/inference.(*Session).Logits",
			"github.com/vitseg/vitseg/model/inference.(*Session).Segment",
			"github.com/vitseg/vitseg/pipeline.(*Pipeline).inferBatch"}, "model (ONNX Runtime Run)"},
		{"decode beats the fetch stage's pool", []string{"github.com/vitseg/vitseg/model/imaging.decodeTurbo",
			"github.com/vitseg/vitseg/model/imaging.DecodeWith",
			"github.com/vitseg/vitseg/pipeline.(*Pipeline).decode"}, "decode"},
		{"PNG inside the S3 PUT", []string{"github.com/vitseg/vitseg/model/imaging.encodeMaskPNG",
			"github.com/vitseg/vitseg/model/imaging.(*MaskEncoder).Encode",
			"github.com/vitseg/vitseg/pipeline.(*Pipeline).putMask"}, "mask PNG"},
		{"signing inside the S3 PUT", []string{"github.com/minio/minio-go/v7/pkg/signer.SignV4",
			"github.com/vitseg/vitseg/pipeline.(*Pipeline).putMask"}, "S3 PUT (minio-go, in the write stage)"},
		{"kafka-go writer", []string{"github.com/segmentio/kafka-go.(*partitionWriter).writeBatch"},
			"Kafka produce (result events)"},
		{"kafka-go reader", []string{"github.com/segmentio/kafka-go.(*reader).run"}, "Kafka fetch and commit (kafka-go reader)"},
		{"a thread C started", []string{"[libc.so.6]", "runtime._ExternalCode"}, "ONNX Runtime pool threads (any session's)"},
		{"GC worker", []string{"runtime.scanobject", "runtime.gcBgMarkWorker"}, "GC (background workers)"},
		{"scheduler", []string{"runtime.findRunnable", "runtime.schedule"}, bookkeeping},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := stageOf(tt.funcs); got != tt.want {
				t.Errorf("stageOf = %q, want %q", got, tt.want)
			}
		})
	}
}
