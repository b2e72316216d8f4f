#!/usr/bin/env bash
# Installs the runtimes vitseg needs into the cache, keyed by version, and the
# C library its build links:
#
#   turbojpeg  libjpeg-turbo's TurboJPEG header and library (cgo, JPEG decode):
#              apt-get install libturbojpeg0-dev when the C compiler cannot
#              find them (Debian/Ubuntu; elsewhere install it by hand)
#   ort        ONNX Runtime library (from the npm package onnxruntime-node)
#   cuda       ort, plus its CUDA execution provider next to it (from the npm
#              package com.github.asus4.onnxruntime.linux-x64-gpu, ~180 MB;
#              the CUDA 13 and cuDNN 9 libraries come from the host)
#   minio      MinIO server, built with `go install`
#   devbroker  the tools module's devbroker (Kafka-protocol dev broker) and
#              stackinit (bucket/notification setup) commands
#   prometheus Prometheus and promtool (scripts/check-observability.sh): used
#              from PATH when both are there, else Debian's prometheus package
#              unpacked into the cache (apt-get download; no service started)
#   all        turbojpeg, ort, minio and devbroker (the default)
#
# Idempotent: what is already cached (and verified) is left alone. Versions and
# checksums come from internal/host/runtimepaths/versions.env, and the paths from
# package internal/host/runtimepaths (see scripts/lib.sh; it needs the go command).
# Environment:
#
#   VITSEG_CACHE    cache root (default $XDG_CACHE_HOME/vitseg, else
#                   ~/.cache/vitseg)
#   VITSEG_ORT_TGZ  use this local onnxruntime-node tgz instead of downloading
#                   it (its sha256 is still verified)
#   VITSEG_ORT_CUDA_TGZ  the same for the CUDA provider package
#
# Usage: scripts/setup.sh [turbojpeg|ort|cuda|minio|devbroker|prometheus|all]...
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
vitseg_load

cache="$vitseg_cache"

log() { printf 'setup: %s\n' "$*"; }
die() {
	printf 'setup: error: %s\n' "$*" >&2
	exit 1
}

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

# verify_sha256 FILE WANT fails unless FILE has sha256 WANT.
verify_sha256() {
	local got
	got="$(sha256_of "$1")"
	[[ $got == "$2" ]] || die "checksum mismatch for $1: got $got, want $2"
}


install_ort() {
	local dest tmp tgz
	dest="$vitseg_ort_lib"
	if [[ -f $dest && "$(sha256_of "$dest")" == "$VITSEG_PIN_ORT_LIB_SHA256" ]]; then
		log "ort: cached $dest (onnxruntime $VITSEG_PIN_ORT_VERSION, sha256 verified)"
		return
	fi
	[[ -e $dest ]] && log "ort: $dest fails its checksum; reinstalling"
	tmp="$(mktemp -d)"
	# shellcheck disable=SC2064 # expand tmp now
	trap "rm -rf '$tmp'" RETURN
	tgz="$(npm_fetch "$VITSEG_PIN_ORT_NPM_PACKAGE" "$VITSEG_PIN_ORT_VERSION" "${VITSEG_ORT_TGZ:-}" "$tmp")"
	[[ -f $tgz ]] || die "ort: package $tgz not found"
	verify_sha256 "$tgz" "$VITSEG_PIN_ORT_NPM_TGZ_SHA256"
	tar -xzf "$tgz" -C "$tmp" "$VITSEG_PIN_ORT_NPM_LIB_PATH"
	verify_sha256 "$tmp/$VITSEG_PIN_ORT_NPM_LIB_PATH" "$VITSEG_PIN_ORT_LIB_SHA256"
	mkdir -p "$(dirname "$dest")"
	install -m 0755 "$tmp/$VITSEG_PIN_ORT_NPM_LIB_PATH" "$dest.tmp"
	mv -f "$dest.tmp" "$dest"
	log "ort: installed $dest (onnxruntime $VITSEG_PIN_ORT_VERSION, package and library sha256 verified)"
}

# npm_fetch PACKAGE VERSION LOCAL DIR prints the path of PACKAGE@VERSION's tgz:
# LOCAL when set, else fetched into DIR with npm pack (or curl without npm).
npm_fetch() {
	local pkg=$1 version=$2 local_tgz=$3 dir=$4
	if [[ -n $local_tgz ]]; then
		log "using local package $local_tgz" >&2
		printf '%s\n' "$local_tgz"
	elif command -v npm >/dev/null; then
		log "npm pack $pkg@$version" >&2
		(cd "$dir" && npm pack --silent "$pkg@$version" >/dev/null)
		printf '%s\n' "$dir/$pkg-$version.tgz"
	else
		log "downloading https://registry.npmjs.org/$pkg/-/$pkg-$version.tgz" >&2
		curl -fsSL --retry 3 -o "$dir/$pkg-$version.tgz" "https://registry.npmjs.org/$pkg/-/$pkg-$version.tgz"
		printf '%s\n' "$dir/$pkg-$version.tgz"
	fi
}

# install_cuda puts the CUDA execution provider and the provider bridge of the
# pinned ONNX Runtime next to its core library, where the core looks for them.
install_cuda() {
	local dir tmp tgz f want
	dir="$vitseg_ort_dir"
	local -A files=(
		[libonnxruntime_providers_cuda.so]=$VITSEG_PIN_ORT_CUDA_PROVIDER_SHA256
		[libonnxruntime_providers_shared.so]=$VITSEG_PIN_ORT_CUDA_SHARED_SHA256
	)
	local missing=0
	for f in "${!files[@]}"; do
		[[ -f $dir/$f && "$(sha256_of "$dir/$f")" == "${files[$f]}" ]] || missing=1
	done
	if ((!missing)); then
		log "cuda: cached $dir/libonnxruntime_providers_{cuda,shared}.so ($VITSEG_PIN_ORT_CUDA_NPM_PACKAGE $VITSEG_PIN_ORT_CUDA_NPM_VERSION, sha256 verified)"
		return
	fi
	tmp="$(mktemp -d)"
	# shellcheck disable=SC2064 # expand tmp now
	trap "rm -rf '$tmp'" RETURN
	tgz="$(npm_fetch "$VITSEG_PIN_ORT_CUDA_NPM_PACKAGE" "$VITSEG_PIN_ORT_CUDA_NPM_VERSION" "${VITSEG_ORT_CUDA_TGZ:-}" "$tmp")"
	[[ -f $tgz ]] || die "cuda: package $tgz not found"
	verify_sha256 "$tgz" "$VITSEG_PIN_ORT_CUDA_NPM_TGZ_SHA256"
	for f in "${!files[@]}"; do
		tar -xzf "$tgz" -C "$tmp" "$VITSEG_PIN_ORT_CUDA_NPM_DIR/$f"
		want=${files[$f]}
		verify_sha256 "$tmp/$VITSEG_PIN_ORT_CUDA_NPM_DIR/$f" "$want"
	done
	mkdir -p "$dir"
	for f in "${!files[@]}"; do
		install -m 0755 "$tmp/$VITSEG_PIN_ORT_CUDA_NPM_DIR/$f" "$dir/$f.tmp"
		mv -f "$dir/$f.tmp" "$dir/$f"
	done
	log "cuda: installed $dir/libonnxruntime_providers_{cuda,shared}.so (package and library sha256 verified);" \
		"they need CUDA 13 (libcudart.so.13, libcublas.so.13, libcublasLt.so.13, libcurand.so.10), cuDNN 9 and the" \
		"NVIDIA driver on the loader path: run 'vitseg doctor' to check"
}

install_minio() {
	local dest tmp
	dest="$vitseg_minio_bin"
	if [[ -x $dest ]]; then
		log "minio: cached $dest ($VITSEG_PIN_MINIO_VERSION)"
		return
	fi
	command -v go >/dev/null || die "minio: the go command is required to build MinIO"
	tmp="$(mktemp -d)"
	# shellcheck disable=SC2064 # expand tmp now
	trap "rm -rf '$tmp'" RETURN
	log "minio: go install $VITSEG_PIN_MINIO_MODULE@$VITSEG_PIN_MINIO_VERSION (takes ~10 minutes cold)"
	# Module sources are verified against go.sum's checksum database by go.
	GOBIN="$tmp" GOWORK=off GOFLAGS=-buildvcs=false go install "$VITSEG_PIN_MINIO_MODULE@$VITSEG_PIN_MINIO_VERSION"
	"$tmp/minio" --version >/dev/null || die "minio: built binary does not run"
	mkdir -p "$(dirname "$dest")"
	mv -f "$tmp/minio" "$dest"
	log "minio: installed $dest"
}

install_tools() {
	local dir stamp tmp
	dir="$vitseg_tools_dir"
	stamp="$vitseg_tools_stamp"
	if [[ -x $dir/devbroker && -x $dir/stackinit && -f $dir/source-stamp && "$(<"$dir/source-stamp")" == "$stamp" ]]; then
		log "devbroker: cached $dir/devbroker and $dir/stackinit"
		return
	fi
	command -v go >/dev/null || die "devbroker: the go command is required"
	mkdir -p "$dir"
	tmp="$(mktemp -d "$dir/.build.XXXXXX")"
	# shellcheck disable=SC2064 # expand tmp now
	trap "rm -rf '$tmp'" RETURN
	log "devbroker: building tools module commands into $dir"
	(
		cd "$vitseg_root/tools"
		GOWORK=off GOFLAGS=-buildvcs=false go build -trimpath -o "$tmp/" ./devbroker ./stackinit
	)
	mv -f "$tmp/devbroker" "$dir/devbroker"
	mv -f "$tmp/stackinit" "$dir/stackinit"
	printf '%s\n' "$stamp" >"$dir/source-stamp"
	log "devbroker: installed $dir/devbroker and $dir/stackinit"
}

# have_turbojpeg reports whether the C compiler finds TurboJPEG's header and library.
have_turbojpeg() {
	printf '#include <turbojpeg.h>\nint main(void) { return tjInitDecompress() == 0; }\n' |
		"${CC:-cc}" -x c - -o /dev/null -lturbojpeg 2>/dev/null
}

install_turbojpeg() {
	if have_turbojpeg; then
		log "turbojpeg: present"
		return
	fi
	local missing="the TurboJPEG header and library (libjpeg-turbo) are missing, or there is no C compiler (${CC:-cc})"
	command -v apt-get >/dev/null || die "turbojpeg: $missing; install libjpeg-turbo's TurboJPEG development package"
	local sudo=()
	[[ $(id -u) == 0 ]] || sudo=(sudo)
	log "turbojpeg: $missing; installing Debian's libturbojpeg0-dev"
	"${sudo[@]}" apt-get update -qq
	DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends libturbojpeg0-dev gcc libc6-dev
	have_turbojpeg || die "turbojpeg: still not usable after installing libturbojpeg0-dev"
	log "turbojpeg: installed libturbojpeg0-dev"
}

# install_prometheus makes promtool and prometheus available: from PATH, else
# Debian's package unpacked into $cache/prometheus/bin (scripts that need them
# add that directory to PATH).
install_prometheus() {
	local dir="$cache/prometheus/bin" tmp
	if command -v promtool >/dev/null && command -v prometheus >/dev/null; then
		log "prometheus: present ($(command -v prometheus), $(command -v promtool))"
		return
	fi
	if [[ -x $dir/promtool && -x $dir/prometheus ]]; then
		log "prometheus: cached $dir"
		return
	fi
	command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null ||
		die "prometheus: promtool and prometheus are missing; install Prometheus (2.42 or later) by hand"
	tmp="$(mktemp -d)"
	# shellcheck disable=SC2064 # expand tmp now
	trap "rm -rf '$tmp'" RETURN
	log "prometheus: unpacking Debian's prometheus package into $dir"
	if ! (cd "$tmp" && apt-get download prometheus >/dev/null 2>&1); then
		local sudo=()
		[[ $(id -u) == 0 ]] || sudo=(sudo)
		"${sudo[@]}" apt-get update -qq
		(cd "$tmp" && apt-get download prometheus >/dev/null) || die "prometheus: apt-get download failed"
	fi
	dpkg-deb -x "$tmp"/prometheus_*.deb "$tmp/root"
	mkdir -p "$dir"
	install -m 0755 "$tmp/root/usr/bin/prometheus" "$tmp/root/usr/bin/promtool" "$dir/"
	"$dir/promtool" --version >/dev/null || die "prometheus: the unpacked promtool does not run"
	log "prometheus: installed $dir/prometheus and $dir/promtool"
}

main() {
	local targets=("$@")
	((${#targets[@]})) || targets=(all)
	local t
	for t in "${targets[@]}"; do
		case $t in
		turbojpeg | ort | cuda | minio | devbroker | prometheus | all) ;;
		-h | --help)
			sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
			return
			;;
		*) die "unknown target '$t' (want turbojpeg, ort, cuda, minio, devbroker, prometheus or all)" ;;
		esac
	done
	for t in "${targets[@]}"; do
		case $t in
		turbojpeg) vitseg_with_lock apt install_turbojpeg ;;
		ort) vitseg_with_lock ort install_ort ;;
		cuda) vitseg_with_lock ort install_ort && vitseg_with_lock ort install_cuda ;;
		minio) vitseg_with_lock minio install_minio ;;
		devbroker) vitseg_with_lock tools install_tools ;;
		prometheus) vitseg_with_lock prometheus install_prometheus ;;
		all)
			vitseg_with_lock apt install_turbojpeg
			vitseg_with_lock ort install_ort
			vitseg_with_lock minio install_minio
			vitseg_with_lock tools install_tools
			;;
		esac
	done
	log "done; to use: source scripts/env.sh"
}

main "$@"
