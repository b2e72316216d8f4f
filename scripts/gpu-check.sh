#!/usr/bin/env bash
# The GPU check of vitseg (issue 9): prepared and dry-run on a machine without a GPU, run on an NVIDIA GPU
# machine that reaches no registry and takes at most 64 MiB per call.
#
#   scripts/gpu-check.sh prepare [DIR]   here, after scripts/setup.sh all cuda: build the payload into DIR
#                                        (default out/gpu-payload) as part1 (the CUDA provider with only its
#                                        sm_90 cubins, xz), part2 (vitseg, vitseg-gpucheck, vitseg-paths, the
#                                        ONNX Runtime core and provider bridge), part3 and part4 (MinIO in two halves; the
#                                        dev broker in part4: the serve check); each part under 40 MiB
#   scripts/gpu-check.sh stage PART...   on the GPU machine: unpack parts into out/gpu-stage (kept between
#                                        calls of a warm machine, so each call can carry one part)
#   scripts/gpu-check.sh run             on the GPU machine: the checks below, raw output into $OUT (or
#                                        out/gpu-check) for docs/gpu/
#
# The checks, in order: every NEEDED library of the provider resolves (ldd); `vitseg doctor` passes; CUDA logits
# equal CPU logits on the shipped model (max abs diff <= 1e-3, arg-max agreement >= 99.9%) with no node on the
# CPU (ONNX Runtime verbose log); inference images/s at batch 1, 8, 32, 128 for small and article against
# PyTorch CUDA on the same model (bench/reference/vit_gpu.py, when torch is there); GoMLX training steps on
# onnx:cuda against onnx:cpu; `vitseg serve --device cuda` end to end on the dev stack (images/s, GPU busy
# share from nvidia-smi); SIGTERM drains it.
#
# VITSEG_GPU_CHECK_PRESETS (default small,article) and VITSEG_GPU_CHECK_EPOCHS (default 2) size the run.
# VITSEG_GPU_CHECK_DRY=1 runs `run` without a GPU (--device auto instead of cuda, stand-in CUDA libraries on
# LD_LIBRARY_PATH when VITSEG_GPU_CHECK_STANDINS names their directory, no PyTorch): the dry run of this script.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root" || exit 1
stage=$root/out/gpu-stage
dry=${VITSEG_GPU_CHECK_DRY:-0}
device=cuda
((dry)) && device=auto
presets=${VITSEG_GPU_CHECK_PRESETS:-small,article}

section() { printf '\n== %s\n' "$*"; }
die() {
	printf 'gpu-check: error: %s\n' "$*" >&2
	exit 1
}

prepare() {
	set -e
	local dir=${1:-$root/out/gpu-payload} ortdir
	# shellcheck source=lib.sh
	source "$root/scripts/lib.sh"
	vitseg_load
	ortdir="$vitseg_ort_dir"
	[[ -f $ortdir/libonnxruntime_providers_cuda.so ]] || die "run scripts/setup.sh all cuda first"
	rm -rf "$dir" && mkdir -p "$dir"/part1 "$dir"/part2 "$dir"/part3
	go build -o "$dir/fatbin-keep" ./bench/cmd/fatbin-keep
	"$dir/fatbin-keep" -arch 90 "$ortdir/libonnxruntime_providers_cuda.so" "$dir/providers_cuda.so"
	xz -T0 -6 -c "$dir/providers_cuda.so" >"$dir/part1/libonnxruntime_providers_cuda.so.xz"
	rm -f "$dir/providers_cuda.so" "$dir/fatbin-keep"
	go build -tags onnx -trimpath -o "$dir/vitseg" ./cmd/vitseg
	go build -tags onnx -trimpath -o "$dir/vitseg-gpucheck" ./bench/cmd/vitseg-gpucheck
	# scripts/lib.sh's paths, for a GPU machine without Go (VITSEG_PATHS_BIN).
	CGO_ENABLED=0 go build -trimpath -o "$dir/vitseg-paths" ./cmd/vitseg-paths
	local f
	for f in vitseg vitseg-gpucheck vitseg-paths; do
		xz -T0 -6 -c "$dir/$f" >"$dir/part2/$f.xz" && rm -f "$dir/$f"
	done
	xz -T0 -6 -c "$ortdir/libonnxruntime.so.1" >"$dir/part2/libonnxruntime.so.1.xz"
	cp "$ortdir/libonnxruntime_providers_shared.so" "$dir/part2/"
	# The serve check's stack, in the cache layout of scripts/lib.sh (relative to the cache root).
	local cache minio tools
	cache="$vitseg_cache"
	minio="$vitseg_minio_bin" tools="$vitseg_tools_dir"
	minio=${minio#"$cache/"} tools=${tools#"$cache/"}
	mkdir -p "$dir/part3/$(dirname "$minio")" "$dir/part4/$(dirname "$minio")" "$dir/part4/$tools"
	xz -T0 -6 -c "$cache/$minio" >"$dir/part3/$minio.xz"
	for f in devbroker stackinit; do
		xz -T0 -6 -c "$cache/$tools/$f" >"$dir/part4/$tools/$f.xz"
	done
	cp "$cache/$tools/source-stamp" "$dir/part4/$tools/"
	# MinIO does not fit one call: its second half goes to part4 (stage joins the halves in call order).
	split -b 36M -d "$dir/part3/$minio.xz" "$dir/part3/$minio.xz.part"
	rm -f "$dir/part3/$minio.xz"
	for f in "$dir/part3/$minio.xz.part"*; do
		[[ $f == *part00 ]] || mv "$f" "$dir/part4/$(dirname "$minio")/"
	done
	du -sh "$dir"/part*
	local p
	for p in "$dir"/part*; do
		(($(du -sm "$p" | cut -f1) < 40)) || die "$p is over 40 MiB (with the working tree it must fit 64 MiB): split it"
	done
	echo "gpu-check: payload ready; on the GPU machine carry one part per call (out/gpu-payload/partN) and run" \
		"'scripts/gpu-check.sh stage out/gpu-payload/partN', then 'scripts/gpu-check.sh run'"
}

stage_parts() {
	mkdir -p "$stage/ort" "$stage/bin" "$stage/cache"
	local p f rel
	for p in "$@"; do
		while IFS= read -r f; do
			rel=${f#"$p"/}
			case $rel in
			libonnxruntime*) xz -dcf "$f" >"$stage/ort/$(basename "${rel%.xz}")" ;;
			vitseg.xz | vitseg-gpucheck.xz | vitseg-paths.xz) xz -dc "$f" >"$stage/bin/${rel%.xz}" && chmod +x "$stage/bin/${rel%.xz}" ;;
			*.xz.part[0-9][0-9]) mkdir -p "$(dirname "$stage/chunks/$rel")" && cat "$f" >>"$stage/chunks/${rel%.part[0-9][0-9]}" ;;
			*.xz) mkdir -p "$(dirname "$stage/cache/$rel")" && xz -dc "$f" >"$stage/cache/${rel%.xz}" && chmod +x "$stage/cache/${rel%.xz}" ;;
			*) mkdir -p "$(dirname "$stage/cache/$rel")" && cp "$f" "$stage/cache/$rel" ;;
			esac
		done < <(find "$p" -type f | LC_ALL=C sort)
	done
	# A file split across parts is unpacked once all its pieces are there.
	while IFS= read -r f; do
		rel=${f#"$stage/chunks/"}
		if xz -t "$f" 2>/dev/null; then
			mkdir -p "$(dirname "$stage/cache/$rel")"
			xz -dc "$f" >"$stage/cache/${rel%.xz}" && chmod +x "$stage/cache/${rel%.xz}" && rm -f "$f"
		fi
	done < <(find "$stage/chunks" -type f 2>/dev/null)
	ls -laR "$stage" | head -40
}

# find_cuda puts the directories of the CUDA 13 and cuDNN 9 libraries on LD_LIBRARY_PATH.
find_cuda() {
	local lib found dirs=()
	for lib in libcudart.so.13 libcublas.so.13 libcublasLt.so.13 libcurand.so.10 libcudnn.so.9 libcuda.so.1; do
		found=$(ldconfig -p 2>/dev/null | awk -v l="$lib" '$1 == l { print $NF; exit }')
		[[ -z $found ]] && found=$(find / -xdev -name "$lib" -not -path '/proc/*' 2>/dev/null | head -1)
		echo "$lib: ${found:-MISSING}"
		[[ -n $found ]] && dirs+=("$(dirname "$found")")
	done
	((dry)) && [[ -n ${VITSEG_GPU_CHECK_STANDINS:-} ]] && dirs=("$VITSEG_GPU_CHECK_STANDINS" "${dirs[@]}")
	LD_LIBRARY_PATH="$(printf '%s\n' "${dirs[@]}" | awk '!seen[$0]++' | tr '\n' ':')${LD_LIBRARY_PATH:-}"
	export LD_LIBRARY_PATH
	echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
}

check_inference() {
	local out=$1
	section "CUDA against CPU logits, shipped small model; node placements (ONNX Runtime verbose log)"
	"$stage/bin/vitseg-gpucheck" -parity model/zoo/small/model.onnx -ort-verbose \
		>"$out/parity.jsonl" 2>"$out/parity-verbose.log"
	echo "exit status $?"
	cat "$out/parity.jsonl"
	grep -iE 'VerifyEachNodeIsAssignedToAnEp|placed on|not assigned' "$out/parity-verbose.log" | head -40
	section "inference images/s, CUDA (vitseg-gpucheck), batch 1, 8, 32, 128"
	"$stage/bin/vitseg-gpucheck" -presets "$presets" -batches 1,8,32,128 -devices "$device" -train-batch 0 \
		2>&1 | tee "$out/vitseg-inference.jsonl"
	if ((!dry)) && python3 -c 'import torch' 2>/dev/null; then
		section "PyTorch CUDA, same model (bench/reference/vit_gpu.py)"
		PYTHONUNBUFFERED=1 python3 bench/reference/vit_gpu.py --device cuda --presets "$presets" \
			--batches 1,8,32,128 2>&1 | tee "$out/pytorch-cuda.jsonl"
	else
		echo "PyTorch reference skipped (dry run or no torch)"
	fi
}

check_training() {
	local out=$1 backend=onnx:cuda
	((dry)) && backend=onnx:cpu
	section "GoMLX training steps, $backend and onnx:cpu (vitseg-gpucheck)"
	"$stage/bin/vitseg-gpucheck" -presets "$presets" -batches 1 -devices cpu -train-backend "$backend" \
		2>&1 | grep '"train"' | tee "$out/vitseg-train.jsonl"
	section "vitseg train --device $device (${VITSEG_GPU_CHECK_EPOCHS:-2} epochs, small, the sample dataset)"
	"$stage/bin/vitseg" train --device "$device" --data "${VITSEG_DATASET_DIR:-$root/../shared/datasets/oxford-pets-sample}" \
		--epochs "${VITSEG_GPU_CHECK_EPOCHS:-2}" --out "$out/train" --log-format json >"$out/train.log" 2>&1
	echo "exit status $?"
	grep -E '"backend"|epoch|wrote' "$out/train.log" | tail -5
}

check_serve() {
	local out=$1 http=127.0.0.1:18080 pid n
	[[ -x $stage/cache/minio/$VITSEG_PIN_MINIO_VERSION/minio ]] || {
		echo "serve check skipped: part3 (MinIO, dev broker) not staged"
		return
	}
	section "vitseg serve --device $device end to end on the dev stack"
	export VITSEG_CACHE=$stage/cache VITSEG_DEVSTACK_DIR=$stage/devstack
	scripts/devstack.sh up || return
	# shellcheck disable=SC1090
	source "$(scripts/devstack.sh env-file)"
	"$stage/bin/vitseg" serve --model model/zoo/small/model.onnx --allow pets/uploads/ --device "$device" \
		--max-batch 32 --http-addr "$http" --log-format json >"$out/serve.log" 2>&1 &
	pid=$!
	for _ in $(seq 1 240); do curl -fsS "http://$http/readyz" >/dev/null 2>&1 && break; sleep 0.5; done
	(command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=utilization.gpu --format=csv,noheader -lms 500 \
		>"$out/gpu-busy.csv" 2>&1) &
	local smi=$! data=${VITSEG_DATASET_DIR:-$root/../shared/datasets/oxford-pets-sample}
	n=$(find "$data/images" -maxdepth 1 -type f | wc -l)
	local started=$SECONDS
	"$stage/bin/vitseg" dataset upload --images-only "$data" s3://pets/uploads/gpu-check
	"$stage/bin/vitseg" results --source-prefix uploads/gpu-check/ --expect "$n" --timeout 10m 2>&1 | tail -5
	echo "serve: $n images in $((SECONDS - started)) s (upload included)"
	kill "$smi" 2>/dev/null
	[[ -s $out/gpu-busy.csv ]] && awk -F'[ %]' '{ s += $1; n++ } END { if (n) printf "GPU busy: mean %.1f%% over %d samples\n", s / n, n }' "$out/gpu-busy.csv"
	section "SIGTERM drains serve"
	kill -TERM "$pid"
	wait "$pid"
	echo "serve exit status $? after SIGTERM"
	grep -E 'restored Go|stopped|drain' "$out/serve.log" | tail -5
	scripts/devstack.sh down
}

run_checks() {
	local out=${OUT:-$root/out/gpu-check}
	mkdir -p "$out"
	[[ -x $stage/bin/vitseg-paths ]] && export VITSEG_PATHS_BIN=$stage/bin/vitseg-paths
	# shellcheck source=lib.sh
	source "$root/scripts/lib.sh"
	vitseg_load
	[[ -x $stage/bin/vitseg && -f $stage/ort/libonnxruntime.so.1 ]] || die "stage the payload first"
	export VITSEG_ORT_LIB=$stage/ort/libonnxruntime.so.1 ONNXRUNTIME_SHARED_LIBRARY_PATH=$stage/ort/libonnxruntime.so.1
	export GOMLX_NO_AUTO_INSTALL=1
	{
		section machine
		nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>&1
		section "CUDA and cuDNN libraries"
		find_cuda
		section "ldd of the CUDA provider: every NEEDED must resolve"
		ldd "$stage/ort/libonnxruntime_providers_cuda.so" | tee "$out/ldd.txt"
		grep -q 'not found' "$out/ldd.txt" && echo "ldd: NOT RESOLVED: $(grep 'not found' "$out/ldd.txt" | tr '\n' ' ')"
		section "vitseg doctor"
		"$stage/bin/vitseg" doctor
		echo "doctor exit status $?"
		check_inference "$out"
		check_training "$out"
		check_serve "$out"
	} 2>&1 | tee "$out/gpu-check.log"
}

case ${1:-} in
prepare) prepare "${2:-}" ;;
stage)
	shift
	stage_parts "$@"
	;;
run) run_checks ;;
*)
	sed -n '2,/^set -uo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
	exit 2
	;;
esac
