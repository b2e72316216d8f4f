package envflag

import "strings"

// List splits a comma-separated flag value into its items, trimming spaces and dropping empty items.
func List(s string) []string {
	var out []string
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
