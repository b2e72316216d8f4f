package bench

import (
	"testing"
	"time"
)

func TestParseLoadAvg(t *testing.T) {
	tests := []struct {
		in      string
		want    LoadAvg
		wantErr bool
	}{
		{in: "5.71 5.93 4.04 2/114 5834\n", want: LoadAvg{5.71, 5.93, 4.04}},
		{in: "0.00 0.01 0.05", want: LoadAvg{0, 0.01, 0.05}},
		{in: "1.0 2.0", wantErr: true},
		{in: "a b c", wantErr: true},
	}
	for _, tt := range tests {
		got, err := parseLoadAvg(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("parseLoadAvg(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestParseStatCPU(t *testing.T) {
	tests := []struct {
		name    string
		stat    string
		want    CPUTimes
		wantErr bool
	}{
		{name: "plain", stat: "1234 (minio) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 12 0",
			want: CPUTimes{User: 2500 * time.Millisecond, System: 750 * time.Millisecond}},
		{name: "name with spaces and parentheses", stat: "7 (a (b) c) R 1 7 7 0 -1 0 0 0 0 0 3 1 0 0 20 0",
			want: CPUTimes{User: 30 * time.Millisecond, System: 10 * time.Millisecond}},
		{name: "truncated", stat: "7 (x) R 1 2", wantErr: true},
		{name: "no name", stat: "7 x R", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStatCPU(tt.stat)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("got %+v, %v; want %+v, error %v", got, err, tt.want, tt.wantErr)
			}
			if err == nil && got.Total() != tt.want.User+tt.want.System {
				t.Errorf("Total %v", got.Total())
			}
		})
	}
}
