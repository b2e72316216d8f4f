# shellcheck shell=bash
# Shared definitions for scripts/setup.sh, scripts/env.sh and the other
# scripts: where the repository is, and, from vitseg_load, the cache directory,
# the pinned versions and the cached path of each runtime. Sourced, never
# executed. Every name defined here starts with vitseg_ / VITSEG_ so that
# env.sh can source it into a user's shell without clobbering anything.

# vitseg_root is the repository root (the parent of scripts/).
vitseg_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# vitseg_load sets, from the environment at the time of the call, the values
# that package internal/host/runtimepaths defines (the one implementation; the pins
# are internal/host/runtimepaths/versions.env), as printed by its vitseg-paths
# command:
#
#   vitseg_cache          the cache directory ($VITSEG_CACHE, else
#                         $XDG_CACHE_HOME/vitseg when absolute, else
#                         ~/.cache/vitseg)
#   vitseg_ort_dir        the pinned ONNX Runtime's directory (core library and
#                         CUDA provider libraries)
#   vitseg_ort_lib        its core library
#   vitseg_minio_bin      the pinned MinIO server
#   vitseg_tools_stamp    the digest of the sources of the tools built from tools/
#   vitseg_tools_key      its first 16 hex digits, the tools' cache key
#   vitseg_tools_dir      the cache directory of those tools (devbroker, stackinit)
#   vitseg_devbroker_bin  the devbroker in it
#   VITSEG_PIN_<KEY>      each pin of versions.env
#
# The paths are the cache's: VITSEG_ORT_LIB and the VITSEG_*_BIN overrides are
# for the callers to apply. It runs the command with `go run` (the first run
# compiles it: seconds, half a minute on an empty Go build cache; later runs
# take it from that cache, ~0.2 s), or, on
# a machine without Go, the vitseg-paths binary that VITSEG_PATHS_BIN names
# (built from this checkout: its pins are embedded).
vitseg_load() {
	local out cmd=(go run ./cmd/vitseg-paths)
	if [[ -n ${VITSEG_PATHS_BIN:-} ]]; then
		cmd=("$VITSEG_PATHS_BIN")
	elif ! command -v go >/dev/null; then
		echo "scripts/lib.sh: the go command is required (or VITSEG_PATHS_BIN, a built vitseg-paths)" >&2
		return 1
	fi
	out="$(cd "$vitseg_root" && CGO_ENABLED=0 "${cmd[@]}" env)" || {
		echo "scripts/lib.sh: ${cmd[*]} env failed" >&2
		return 1
	}
	eval "$out"
}

# vitseg_with_lock NAME CMD... runs CMD holding an exclusive lock in the cache
# (after vitseg_load), so that concurrent setup runs do not build the same thing
# twice.
vitseg_with_lock() {
	local name=$1
	shift
	mkdir -p "$vitseg_cache/locks"
	(
		flock 9
		"$@"
	) 9>"$vitseg_cache/locks/$name.lock"
}
