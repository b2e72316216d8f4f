package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/vitseg/vitseg/internal/envflag"
)

// floatList is a flag.Value of comma-separated numbers.
type floatList []float64

func (f *floatList) String() string {
	if f == nil {
		return ""
	}
	parts := make([]string, len(*f))
	for i, v := range *f {
		parts[i] = strconv.FormatFloat(v, 'g', -1, 64)
	}
	return strings.Join(parts, ",")
}

func (f *floatList) Set(s string) error {
	var values []float64
	for _, part := range envflag.List(s) {
		v, err := strconv.ParseFloat(part, 64)
		if err != nil {
			return fmt.Errorf("not a number: %q", part)
		}
		values = append(values, v)
	}
	*f = values
	return nil
}
