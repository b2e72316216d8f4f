package pipeline_test

import (
	"fmt"
	"testing"

	"github.com/vitseg/vitseg/pipeline"
)

func TestAutoThreads(t *testing.T) {
	tests := []struct {
		cpus                   int
		gpu                    bool
		wantIntra, wantWorkers int
	}{
		{0, false, 1, 1},
		{1, false, 1, 1},
		{2, false, 1, 1},
		{4, false, 3, 1},
		{8, false, 6, 2},
		{16, false, 12, 4},
		{2, true, 1, 2},
		{16, true, 1, 16},
	}
	for _, tt := range tests {
		intra, workers := pipeline.AutoThreads(tt.cpus, tt.gpu)
		if intra != tt.wantIntra || workers != tt.wantWorkers {
			t.Errorf("AutoThreads(%d, %v) = %d, %d; want %d, %d", tt.cpus, tt.gpu, intra, workers, tt.wantIntra, tt.wantWorkers)
		}
	}
}

func ExampleAutoThreads() {
	intra, workers := pipeline.AutoThreads(16, false)
	fmt.Println(intra, "ONNX Runtime threads,", workers, "decode workers")
	// Output: 12 ONNX Runtime threads, 4 decode workers
}
