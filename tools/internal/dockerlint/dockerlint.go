// Package dockerlint runs BuildKit's Dockerfile checks (the rules of
// `docker build --check`) without a Docker engine or registry access, and
// checks that the files a Dockerfile copies from the build context exist and
// are not excluded by .dockerignore.
package dockerlint

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// Finding is one lint warning or context problem.
type Finding struct {
	// Rule is the BuildKit rule name (for example JSONArgsRecommended), or
	// BuildError, MissingContextFile or CopyIgnoredFile.
	Rule string
	// Line is the 1-based Dockerfile line, 0 when unknown.
	Line int
	// Message describes the problem.
	Message string
	// URL documents the rule, when BuildKit has a page for it.
	URL string
}

// String formats the finding as "line N: Rule: message (url)".
func (f Finding) String() string {
	s := fmt.Sprintf("line %d: %s: %s", f.Line, f.Rule, f.Message)
	if f.URL != "" {
		s += " (" + f.URL + ")"
	}
	return s
}

// Options configures Lint.
type Options struct {
	// BuildArgs override ARG defaults, as --build-arg does.
	BuildArgs map[string]string
}

// Lint runs BuildKit's Dockerfile linter over dockerfile with every stage
// reachable, as `docker build --check` does. Base images are not pulled: each
// FROM resolves to a synthetic linux/amd64 image config with a standard PATH,
// so rules that depend on a base image's real configuration (its platform,
// its ENV beyond PATH) are evaluated against that stand-in. Rules are
// configured by the Dockerfile's own `# check=` directive, as in a real build.
// A Dockerfile that fails to parse yields a BuildError finding.
func Lint(ctx context.Context, dockerfile []byte, filename string, opts Options) ([]Finding, error) {
	config := dockerui.Config{BuildArgs: opts.BuildArgs}
	platform := ocispecs.Platform{OS: "linux", Architecture: "amd64"}
	sourceMap := llb.NewSourceMap(nil, filename, "Dockerfile", dockerfile)
	sourceMap.Definition = &llb.Definition{} // the lint report needs one; no build is marshalled
	results, err := dockerfile2llb.DockerfileLint(ctx, dockerfile, dockerfile2llb.ConvertOpt{
		Config:         config,
		SourceMap:      sourceMap,
		TargetPlatform: &platform,
		MetaResolver:   offlineResolver{platform: platform},
	})
	if err != nil {
		return nil, fmt.Errorf("lint %s: %w", filename, err)
	}
	var findings []Finding
	for _, w := range results.Warnings {
		f := Finding{Rule: w.RuleName, Message: w.Detail, URL: w.URL}
		if w.Location != nil && len(w.Location.Ranges) > 0 && w.Location.Ranges[0].Start != nil {
			f.Line = int(w.Location.Ranges[0].Start.Line)
		}
		findings = append(findings, f)
	}
	if results.Error != nil {
		f := Finding{Rule: "BuildError", Message: results.Error.Message}
		if ranges := results.Error.Location.Ranges; len(ranges) > 0 && ranges[0].Start != nil {
			f.Line = int(ranges[0].Start.Line)
		}
		findings = append(findings, f)
	}
	return findings, nil
}

// offlineResolver answers base-image lookups without a registry.
type offlineResolver struct {
	platform ocispecs.Platform
}

// ResolveImageConfig returns the stand-in config for any reference.
func (r offlineResolver) ResolveImageConfig(_ context.Context, ref string, _ sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	config, err := json.Marshal(ocispecs.Image{
		Platform: r.platform,
		Config: ocispecs.ImageConfig{
			Env: []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
		},
		RootFS: ocispecs.RootFS{Type: "layers", DiffIDs: []digest.Digest{digest.FromString(ref)}},
	})
	if err != nil {
		return "", "", nil, err
	}
	return ref, "", config, nil
}

// CheckContext checks the COPY and ADD instructions that read the build
// context (no --from, no URL, no heredoc): every source must exist under
// contextDir and must not be excluded by contextDir/.dockerignore, since
// either makes the build fail. Sources containing variables are skipped.
func CheckContext(dockerfile []byte, contextDir string) ([]Finding, error) {
	ast, err := parser.Parse(strings.NewReader(string(dockerfile)))
	if err != nil {
		return nil, fmt.Errorf("parse Dockerfile: %w", err)
	}
	stages, _, err := instructions.Parse(ast.AST, nil)
	if err != nil {
		return nil, fmt.Errorf("parse Dockerfile instructions: %w", err)
	}
	matcher, err := ignoreMatcher(contextDir)
	if err != nil {
		return nil, err
	}
	var findings []Finding
	for _, stage := range stages {
		for _, cmd := range stage.Commands {
			var sources []string
			var name string
			var line int
			switch c := cmd.(type) {
			case *instructions.CopyCommand:
				if c.From != "" {
					continue
				}
				sources, name, line = c.SourcePaths, "COPY", firstLine(c.Location())
			case *instructions.AddCommand:
				sources, name, line = c.SourcePaths, "ADD", firstLine(c.Location())
			default:
				continue
			}
			for _, src := range sources {
				f, err := checkSource(contextDir, matcher, name, src, line)
				if err != nil {
					return nil, err
				}
				if f != nil {
					findings = append(findings, *f)
				}
			}
		}
	}
	return findings, nil
}

func checkSource(contextDir string, matcher *patternmatcher.PatternMatcher, name, src string, line int) (*Finding, error) {
	if strings.Contains(src, "$") || strings.Contains(src, "://") || strings.HasPrefix(src, "git@") {
		return nil, nil
	}
	rel := path.Clean(strings.TrimPrefix(filepath.ToSlash(src), "/"))
	if strings.HasPrefix(rel, "../") || rel == ".." {
		return &Finding{Rule: "MissingContextFile", Line: line, Message: fmt.Sprintf("%s source %q is outside the build context", name, src)}, nil
	}
	matches, err := filepath.Glob(filepath.Join(contextDir, filepath.FromSlash(rel)))
	if err != nil {
		return nil, fmt.Errorf("%s source %q: %w", name, src, err)
	}
	if len(matches) == 0 {
		return &Finding{Rule: "MissingContextFile", Line: line, Message: fmt.Sprintf("%s source %q does not exist in the build context %s", name, src, contextDir)}, nil
	}
	if matcher == nil || rel == "." {
		return nil, nil
	}
	for _, match := range matches {
		relMatch, err := filepath.Rel(contextDir, match)
		if err != nil {
			return nil, err
		}
		ignored, err := matcher.MatchesOrParentMatches(filepath.ToSlash(relMatch))
		if err != nil {
			return nil, fmt.Errorf("match .dockerignore: %w", err)
		}
		if ignored {
			return &Finding{Rule: "CopyIgnoredFile", Line: line, Message: fmt.Sprintf("%s source %q is excluded by .dockerignore", name, relMatch)}, nil
		}
	}
	return nil, nil
}

func ignoreMatcher(contextDir string) (*patternmatcher.PatternMatcher, error) {
	f, err := os.Open(filepath.Join(contextDir, ".dockerignore"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	patterns, err := ignorefile.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("read .dockerignore: %w", err)
	}
	matcher, err := patternmatcher.New(patterns)
	if err != nil {
		return nil, fmt.Errorf("parse .dockerignore: %w", err)
	}
	return matcher, nil
}

func firstLine(ranges []parser.Range) int {
	if len(ranges) == 0 {
		return 0
	}
	return ranges[0].Start.Line
}
