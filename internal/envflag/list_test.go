package envflag

import (
	"slices"
	"testing"
)

func TestList(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{" , ,", nil},
		{"a", []string{"a"}},
		{"kafka-0:9092, kafka-1:9092 ,", []string{"kafka-0:9092", "kafka-1:9092"}},
		{"small,,article", []string{"small", "article"}},
	}
	for _, tc := range tests {
		if got := List(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("List(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
