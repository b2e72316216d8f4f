# shellcheck shell=bash
# Source this file (bash) to point the current shell at the cached runtimes
# that scripts/setup.sh installs:
#
#   source scripts/env.sh
#
# It exports VITSEG_CACHE, VITSEG_ORT_LIB, ONNXRUNTIME_SHARED_LIBRARY_PATH,
# GOMLX_NO_AUTO_INSTALL=1, VITSEG_MINIO_BIN and VITSEG_DEVBROKER_BIN. Values
# already set in the environment are kept (ONNXRUNTIME_SHARED_LIBRARY_PATH
# follows VITSEG_ORT_LIB). It only sets variables: it never installs anything
# and does not change shell options. It needs the go command: the paths come
# from package internal/host/runtimepaths (see scripts/lib.sh).

if [[ -z ${BASH_VERSION:-} ]]; then
	echo "scripts/env.sh: source it from bash" >&2
	return 1 2>/dev/null || exit 1
fi

_vitseg_env() {
	# shellcheck source=lib.sh
	source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" || return 1
	vitseg_load || return 1

	export VITSEG_CACHE="${VITSEG_CACHE:-$vitseg_cache}"
	export VITSEG_ORT_LIB="${VITSEG_ORT_LIB:-$vitseg_ort_lib}"
	export ONNXRUNTIME_SHARED_LIBRARY_PATH="$VITSEG_ORT_LIB"
	export GOMLX_NO_AUTO_INSTALL=1
	export VITSEG_MINIO_BIN="${VITSEG_MINIO_BIN:-$vitseg_minio_bin}"
	export VITSEG_DEVBROKER_BIN="${VITSEG_DEVBROKER_BIN:-$vitseg_devbroker_bin}"

	local missing=() p
	for p in "$VITSEG_ORT_LIB" "$VITSEG_MINIO_BIN" "$VITSEG_DEVBROKER_BIN"; do
		[[ -e $p ]] || missing+=("$p")
	done
	if ((${#missing[@]})); then
		printf 'scripts/env.sh: not installed yet (run scripts/setup.sh): %s\n' "${missing[@]}" >&2
	fi
}

_vitseg_env
# Leave nothing but the exported variables behind in the caller's shell.
unset -f _vitseg_env vitseg_load vitseg_with_lock
unset "${!vitseg_@}" "${!VITSEG_PIN_@}"
