package dockerlint

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func rules(findings []Finding) []string {
	var names []string
	for _, f := range findings {
		names = append(names, f.Rule)
	}
	slices.Sort(names)
	return names
}

func TestLint(t *testing.T) {
	tests := []struct {
		name       string
		dockerfile string
		want       []string // rule names, sorted
	}{
		{
			name: "clean multi-stage file",
			dockerfile: `# syntax=docker/dockerfile:1
ARG BASE=debian:bookworm-slim
FROM golang:1.26 AS build
WORKDIR /src
RUN go version
FROM ${BASE} AS runtime
COPY --from=build /usr/local/go/VERSION /VERSION
ENV PATH=/usr/local/bin:$PATH
USER 65532:65532
ENTRYPOINT ["true"]
`,
		},
		{
			name: "rule violations",
			dockerfile: `FROM debian:bookworm AS Build
ARG API_TOKEN=abc
run echo hi
ENV FOO bar
WORKDIR app
CMD echo hi
EXPOSE 8080/TCP
`,
			want: []string{
				"ConsistentInstructionCasing", "ExposeProtoCasing", "JSONArgsRecommended",
				"LegacyKeyValueFormat", "SecretsUsedInArgOrEnv", "StageNameCasing", "WorkdirRelativePath",
			},
		},
		{
			name:       "undefined variable",
			dockerfile: "FROM debian:bookworm\nENV A=$NOT_DEFINED_ANYWHERE\n",
			want:       []string{"UndefinedVar"},
		},
		{
			name:       "parse error",
			dockerfile: "FROM debian:bookworm\nCOPY --bogus=1 a b\n",
			want:       []string{"BuildError"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			findings, err := Lint(context.Background(), []byte(tt.dockerfile), "Dockerfile", Options{})
			if err != nil {
				t.Fatalf("Lint: %v", err)
			}
			if got := rules(findings); !slices.Equal(got, tt.want) {
				t.Errorf("rules = %v, want %v\nfindings: %v", got, tt.want, findings)
			}
			for _, f := range findings {
				if f.Line == 0 && f.Rule != "BuildError" {
					t.Errorf("finding without a line: %v", f)
				}
			}
		})
	}
}

func TestLintBuildArgs(t *testing.T) {
	dockerfile := "ARG BASE\nFROM ${BASE}\n"
	findings, err := Lint(context.Background(), []byte(dockerfile), "Dockerfile", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := rules(findings); !slices.Contains(got, "InvalidDefaultArgInFrom") {
		t.Errorf("without the build arg: rules = %v, want InvalidDefaultArgInFrom", got)
	}
	findings, err = Lint(context.Background(), []byte(dockerfile), "Dockerfile", Options{BuildArgs: map[string]string{"BASE": "debian:bookworm"}})
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(rules(findings), "BuildError") {
		t.Errorf("with the build arg: %v", findings)
	}
}

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestCheckContext(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		".dockerignore":              "model/zoo/**\n!model/zoo/small/model.onnx\nsecrets\n",
		"go.mod":                     "module x\n",
		"model/zoo/small/model.onnx": "onnx",
		"model/zoo/big/model.onnx":   "onnx",
		"secrets/key":                "k",
	})
	dockerfile := `FROM golang:1.26 AS build
COPY go.mod ./
COPY . .
COPY model/zoo/small/model.onnx /m/
COPY model/zoo/big/model.onnx /m/
COPY secrets/key /k
COPY missing.txt /x
COPY --from=build /out /out
COPY ${VAR}/file /y
ADD https://example.com/file /z
COPY model/zoo/*/model.onnx /all/
`
	findings, err := CheckContext([]byte(dockerfile), dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range findings {
		got = append(got, f.Rule+" "+f.Message)
	}
	want := []string{
		`CopyIgnoredFile COPY source "model/zoo/big/model.onnx" is excluded`,
		`CopyIgnoredFile COPY source "secrets/key" is excluded`,
		`MissingContextFile COPY source "missing.txt" does not exist`,
		`CopyIgnoredFile COPY source "model/zoo/big/model.onnx" is excluded`, // via the glob
	}
	if len(got) != len(want) {
		t.Fatalf("findings:\n%s\nwant %d", strings.Join(got, "\n"), len(want))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("finding %d = %q, want prefix %q", i, got[i], want[i])
		}
	}
	if findings[0].Line != 5 {
		t.Errorf("line = %d, want 5", findings[0].Line)
	}
}

func TestCheckPins(t *testing.T) {
	pins := []byte("# comment\nORT_VERSION=1.30.0\nORT_SHA=abc\nMINIO_VERSION=v1\n\n")
	tests := []struct {
		name       string
		dockerfile string
		prefixes   []string
		want       []string
	}{
		{
			name:       "matching pins",
			dockerfile: "ARG ORT_VERSION=1.30.0\nARG ORT_SHA=abc\nFROM scratch\n",
			prefixes:   []string{"ORT_"},
		},
		{
			name:       "stage ARG mismatch",
			dockerfile: "ARG ORT_VERSION=1.30.0\nFROM scratch\nARG ORT_SHA=def\n",
			prefixes:   []string{"ORT_"},
			want:       []string{"PinMismatch"},
		},
		{
			name:       "required pin not declared",
			dockerfile: "ARG ORT_VERSION=1.29.0\nFROM scratch\n",
			prefixes:   []string{"ORT_"},
			want:       []string{"PinMismatch", "PinMissing"},
		},
		{
			name:       "other prefixes are not required",
			dockerfile: "ARG ORT_VERSION=1.30.0\nARG ORT_SHA=abc\nFROM scratch\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			findings, err := CheckPins([]byte(tt.dockerfile), pins, tt.prefixes...)
			if err != nil {
				t.Fatal(err)
			}
			if got := rules(findings); !slices.Equal(got, tt.want) {
				t.Errorf("rules = %v, want %v (%v)", got, tt.want, findings)
			}
		})
	}
	if _, err := ParsePins([]byte("not a pin\n")); err == nil {
		t.Error("ParsePins accepted a malformed line")
	}
}
