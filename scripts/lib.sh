# shellcheck shell=bash
# Shared definitions for scripts/setup.sh, scripts/env.sh and
# scripts/devstack.sh: where the repository and the cache are, and the cached
# path of each runtime. Sourced, never executed. Every name defined here
# starts with vitseg_ / VITSEG_ so that env.sh can source it into a user's
# shell without clobbering anything.

# vitseg_root is the repository root (the parent of scripts/).
vitseg_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# vitseg_load_versions sets the pinned versions from scripts/versions.env,
# the single place where they are kept.
vitseg_load_versions() {
	local line key value
	while IFS= read -r line || [[ -n $line ]]; do
		[[ $line =~ ^[[:space:]]*(#|$) ]] && continue
		if [[ ! $line =~ ^([A-Z][A-Z0-9_]*)=([^[:space:]]*)$ ]]; then
			echo "versions.env: malformed line: $line" >&2
			return 1
		fi
		key=${BASH_REMATCH[1]}
		value=${BASH_REMATCH[2]}
		printf -v "VITSEG_PIN_$key" '%s' "$value"
	done <"$vitseg_root/scripts/versions.env"
}

# vitseg_cache_dir prints the cache directory.
vitseg_cache_dir() {
	printf '%s\n' "${VITSEG_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vitseg}"
}

vitseg_ort_lib_path() {
	printf '%s\n' "$(vitseg_cache_dir)/onnxruntime/$VITSEG_PIN_ORT_VERSION/libonnxruntime.so.1"
}

vitseg_minio_bin_path() {
	printf '%s\n' "$(vitseg_cache_dir)/minio/$VITSEG_PIN_MINIO_VERSION/minio"
}

# vitseg_tools_key prints the cache key of the tools built from this checkout:
# the first 16 hex digits of their source stamp, so that checkouts with other
# tool sources (branches, worktrees) never share a build.
vitseg_tools_key() {
	vitseg_tools_source_stamp | cut -c1-16
}

vitseg_tools_dir() {
	printf '%s\n' "$(vitseg_cache_dir)/tools/$(vitseg_tools_key)"
}

vitseg_devbroker_bin_path() {
	printf '%s\n' "$(vitseg_tools_dir)/devbroker"
}

# vitseg_tools_source_stamp prints a digest of the sources of the tools this
# repository builds from tools/: go.mod, go.sum and the non-test .go files
# under devbroker/ and stackinit/ (outside testdata). setup.sh writes it next
# to the built binaries so that a stale build is detected; internal/testenv
# computes the same digest: the sha256 of the `sha256sum` lines of those
# files, taken in byte order of their paths relative to tools/.
vitseg_tools_source_stamp() {
	(
		cd "$vitseg_root/tools"
		{
			printf '%s\n' go.mod go.sum
			find devbroker stackinit -type f -name '*.go' ! -name '*_test.go' ! -path '*/testdata/*'
		} | LC_ALL=C sort | while IFS= read -r f; do sha256sum "$f"; done | sha256sum | cut -c1-64
	)
}
