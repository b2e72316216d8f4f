// Package envflag gives every flag of a flag.FlagSet an environment variable
// fallback: a flag not set on the command line takes its value from
// PREFIX_NAME, where NAME is the flag name upper-cased with '-' and '.'
// replaced by '_'. For prefix "VITSEG", --kafka-brokers falls back to
// VITSEG_KAFKA_BROKERS. Precedence: command line, then environment, then the
// flag's default.
package envflag

import (
	"flag"
	"fmt"
	"os"
	"strings"
)

// Apply sets each flag of fs that was not set on the command line from its
// environment variable, if that variable is set and not empty (an empty
// variable counts as unset, as templated deployments often produce them).
// Call it after fs.Parse. An error names the variable and the flag it failed
// to set and wraps the flag's parse error.
func Apply(fs *flag.FlagSet, prefix string) error {
	set := make(map[string]bool)
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if err != nil || set[f.Name] {
			return
		}
		name := VarName(prefix, f.Name)
		value := os.Getenv(name)
		if value == "" {
			return
		}
		if e := fs.Set(f.Name, value); e != nil {
			err = fmt.Errorf("environment variable %s for flag -%s: %w", name, f.Name, e)
		}
	})
	return err
}

// VarName returns the environment variable that backs flag name under
// prefix, e.g. VarName("VITSEG", "s3-secret-key") == "VITSEG_S3_SECRET_KEY".
// A trailing '_' on prefix is optional; an empty prefix adds none.
func VarName(prefix, name string) string {
	name = strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(name))
	prefix = strings.TrimSuffix(prefix, "_")
	if prefix == "" {
		return name
	}
	return prefix + "_" + name
}
