#!/usr/bin/env bash
# Checks the deployment artifacts offline, without a Docker engine or a
# cluster:
#
#   dockerfile   BuildKit's Dockerfile rules (`docker build --check`), COPY
#                sources present and not excluded by .dockerignore, ARG pins
#                equal to internal/host/runtimepaths/versions.env
#   lint         helm lint --strict with each charts/vitseg/ci/*.yaml
#   render       helm template with each ci values file, every document
#                decoded strictly into the Kubernetes API types and checked
#                (tools/cmd/manifestcheck)
#   invalid      each charts/vitseg/ci-invalid/*.yaml (layered on
#                ci/cpu-values.yaml) must fail, with the message its
#                "# expect:" line names
#   unittest     helm-unittest suites charts/vitseg/tests/*_test.yaml
#   package      helm package, and the packaged chart renders
#   tools        go test of the validators themselves, and of the generated
#                dashboard and alert rule file (stale: run tools/cmd/obsgen)
#
# helm, helm-unittest and the validators are built from the Go module proxy
# and cached under $VITSEG_CACHE/tools (helm by version, the tools module's
# commands by a digest of their sources), so a second run only runs checks.
#
# Usage: scripts/check-deploy.sh [-v]   (-v prints every check's output)
# Exit status: 0 when every check passed, 1 otherwise.
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
vitseg_load

verbose=false
[[ ${1:-} == -v ]] && verbose=true

root="$vitseg_root"
chart="$root/charts/vitseg"
cache="$vitseg_cache"
# Helm's pin; versions.env may override it with HELM_VERSION.
helm_version="${VITSEG_PIN_HELM_VERSION:-v3.22.0}"
export GOWORK=off GOFLAGS=-buildvcs=false

log() { printf 'check-deploy: %s\n' "$*"; }
die() {
	printf 'check-deploy: error: %s\n' "$*" >&2
	exit 1
}


command -v go >/dev/null || die "the go command is required"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# --- build (cached) --------------------------------------------------------

helm_bin="$cache/tools/helm/$helm_version/helm"

# The Kubernetes version helm assumes for .Capabilities and deprecation checks
# comes from ldflags in helm's release build; `go install` alone leaves v1.20.
# Helm's Makefile derives it from its client-go version (v0.X.Y -> 1.X).
helm_ldflags() {
	local client_go=$1 minor
	minor="$(cut -d. -f2 <<<"$client_go")"
	printf '%s' "-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$minor"
	printf ' %s' "-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$minor"
}

build_helm() {
	[[ -x $helm_bin ]] && return
	local tmp="$work/helm" client_go
	mkdir -p "$tmp"
	log "building helm $helm_version (go install; a few minutes cold)"
	go mod download -json "helm.sh/helm/v3@$helm_version" >"$tmp/mod.json"
	client_go="$(sed -n 's/^[[:space:]]*k8s.io\/client-go \(v[0-9.]*\).*/\1/p' \
		"$(sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p' "$tmp/mod.json")")"
	[[ -n $client_go ]] || die "cannot find helm's client-go version"
	GOBIN="$tmp" go install -trimpath \
		-ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$helm_version -X helm.sh/helm/v3/internal/version.gitTreeState=clean $(helm_ldflags "$client_go")" \
		"helm.sh/helm/v3/cmd/helm@$helm_version"
	"$tmp/helm" version --short >/dev/null || die "built helm does not run"
	mkdir -p "$(dirname "$helm_bin")"
	mv -f "$tmp/helm" "$helm_bin"
}

# deploy_tools_stamp digests what the deployment tools are built from: the
# tools module's go.mod and go.sum and the non-test sources of the commands
# and packages below.
deploy_tools_stamp() {
	(
		cd "$root/tools"
		{
			printf '%s\n' go.mod go.sum
			find cmd/manifestcheck cmd/dockerfilelint internal/manifestcheck internal/dockerlint \
				-type f -name '*.go' ! -name '*_test.go'
		} | LC_ALL=C sort | while IFS= read -r f; do sha256sum "$f"; done | sha256sum | cut -c1-16
	)
}

tools_dir="$cache/tools/deploy/$(deploy_tools_stamp)"

build_tools() {
	if [[ -x $tools_dir/manifestcheck && -x $tools_dir/dockerfilelint && -x $tools_dir/helm-unittest ]]; then
		return
	fi
	local tmp="$work/tools" client_go
	mkdir -p "$tmp"
	log "building manifestcheck, dockerfilelint and helm-unittest from tools/ (a few minutes cold)"
	client_go="$(cd "$root/tools" && go list -m -f '{{.Version}}' k8s.io/client-go)"
	(
		cd "$root/tools"
		go build -trimpath -o "$tmp/" ./cmd/manifestcheck ./cmd/dockerfilelint
		# helm-unittest renders with helm's library: give it the same
		# Kubernetes version as the helm binary.
		go build -trimpath -ldflags "$(helm_ldflags "$client_go")" -o "$tmp/" \
			github.com/helm-unittest/helm-unittest/cmd/helm-unittest
	)
	mkdir -p "$tools_dir"
	mv -f "$tmp"/manifestcheck "$tmp"/dockerfilelint "$tmp"/helm-unittest "$tools_dir/"
}

vitseg_with_lock helm build_helm
vitseg_with_lock deploy-tools build_tools
helm() { "$helm_bin" "$@"; }

# --- checks ----------------------------------------------------------------

passed=0
failed=0
failures=()
out="$work/out"

# check NAME CMD... runs CMD, recording and printing its result.
check() {
	local name=$1
	shift
	if "$@" >"$out" 2>&1; then
		passed=$((passed + 1))
		printf 'PASS  %s\n' "$name"
		$verbose && sed 's/^/      /' "$out"
	else
		failed=$((failed + 1))
		failures+=("$name")
		printf 'FAIL  %s\n' "$name"
		sed 's/^/      /' "$out"
	fi
	return 0
}

# must_fail_with EXPECT CMD... succeeds when CMD fails and its output contains
# EXPECT.
must_fail_with() {
	local expect=$1 output
	shift
	if output="$("$@" 2>&1)"; then
		printf 'unexpectedly succeeded:\n%s\n' "$output"
		return 1
	fi
	if ! grep -qF -- "$expect" <<<"$output"; then
		printf 'failed, but not with %q:\n%s\n' "$expect" "$output"
		return 1
	fi
	printf 'failed as expected: %s\n' "$(grep -F -- "$expect" <<<"$output" | head -1)"
}

render_and_validate() {
	local values=$1
	helm template vitseg "$chart" --namespace vitseg -f "$values" >"$work/render.yaml"
	"$tools_dir/manifestcheck" -q "$work/render.yaml"
}

package_and_render() {
	local dir="$work/package"
	rm -rf "$dir" && mkdir -p "$dir"
	helm package "$chart" --destination "$dir" >/dev/null
	local pkg=("$dir"/vitseg-*.tgz)
	if tar -tzf "${pkg[0]}" | grep -E '^vitseg/(tests|ci-invalid)/'; then
		echo "the package contains test files (.helmignore)"
		return 1
	fi
	helm template vitseg "${pkg[0]}" -f "$chart/ci/cpu-values.yaml" | "$tools_dir/manifestcheck" -q -
}

check "dockerfile: BuildKit lint, build context, pins" \
	"$tools_dir/dockerfilelint" -context "$root" -env "$root/internal/host/runtimepaths/versions.env" -require-pin-prefix ORT_ "$root/Dockerfile"

for values in "$chart"/ci/*.yaml; do
	name="$(basename "$values")"
	check "lint --strict: ci/$name" helm lint --strict "$chart" -f "$values"
	check "render + k8s API types: ci/$name" render_and_validate "$values"
done

for values in "$chart"/ci-invalid/*.yaml; do
	name="$(basename "$values")"
	expect="$(sed -n 's/^# expect: //p' "$values" | head -1)"
	if [[ -z $expect ]]; then
		check "must fail: ci-invalid/$name" false "missing '# expect:' line"
		continue
	fi
	check "must fail: ci-invalid/$name" must_fail_with "$expect" \
		helm template vitseg "$chart" -f "$chart/ci/cpu-values.yaml" -f "$values"
done

check "helm-unittest: charts/vitseg/tests" "$tools_dir/helm-unittest" --color=false --strict "$chart"
check "helm package: packaged chart renders" package_and_render
test_tools() {
	(cd "$root/tools" && go test ./internal/manifestcheck/ ./internal/dockerlint/ ./cmd/manifestcheck/ ./cmd/dockerfilelint/ \
		./internal/alertrules/ ./internal/grafanadash/)
}
check "go test: manifestcheck, dockerlint, generated dashboard and alert rules" test_tools

echo
for name in "${failures[@]}"; do
	printf 'failed: %s\n' "$name"
done
echo "check-deploy: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
