#!/usr/bin/env bash
# Runs vitseg's performance benchmarks and prints a summary table. Every
# benchmark measures its candidate and its baseline in alternating rounds of
# the same run and reports per-round ratios, because the machine is shared:
#
#   inference  images/s, GFLOP/s at batch 1, 8, 32 (small, article, the shipped
#              model/zoo/small) vs one
#              large ONNX Runtime MatMul (the practical ceiling)
#   train      GoMLX (onnx:cpu) training images/s vs the PyTorch reference
#              bench/reference/vit_train.py (Debian's python3-torch)
#   pipeline   end-to-end images/s through Kafka + MinIO vs the bare model,
#              then p50/p99 latency at half the capacity, and a CPU profile;
#              then the CPU cost per image of each pipeline step vs the model
#
# Usage: scripts/bench.sh [inference|train|pipeline|all|deps]   (default: all)
#
#   deps       install what the references need and exit (all and train do
#              this first)
#
# Environment:
#   VITSEG_BENCH_DIR             where reports, logs and the profile go
#                                (default out/bench/<UTC time>)
#   VITSEG_BENCH_QUICK=1         fewer rounds and shorter slices (a smoke run)
#   VITSEG_BENCH_INFERENCE_ARGS  extra flags of `vitseg-bench inference`
#   VITSEG_BENCH_TRAIN_ARGS      extra flags of `vitseg-bench train`
#   VITSEG_BENCH_*               pipeline settings, see
#                                pipeline/pipeline_bench_test.go
#
# The training reference needs Debian's python3-torch and, for a fair
# comparison, an optimised BLAS (libopenblas0-openmp): Debian's torch calls
# the system libblas.so.3, which is netlib's reference BLAS by default.
# train and all apt-get install both when they are missing (as root, or
# through sudo -n); otherwise they stop and name the command to run.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=SCRIPTDIR/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

log() { printf 'bench: %s\n' "$*" >&2; }
die() {
	printf 'bench: error: %s\n' "$*" >&2
	exit 1
}

what="${1:-all}"
case $what in
inference | train | pipeline | all | deps) ;;
-h | --help)
	sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
	exit 0
	;;
*) die "unknown benchmark '$what' (want inference, train, pipeline, all or deps)" ;;
esac

dir="${VITSEG_BENCH_DIR:-$root/out/bench/$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$dir"
bin="$dir/vitseg-bench"

quick_inference=() quick_train=()
if [[ ${VITSEG_BENCH_QUICK:-} == 1 ]]; then
	quick_inference=(-rounds 2 -min-time 500ms)
	quick_train=(-rounds 2 -steps "small=2,article=1")
	export VITSEG_BENCH_ROUNDS="${VITSEG_BENCH_ROUNDS:-2}" VITSEG_BENCH_IMAGES="${VITSEG_BENCH_IMAGES:-96}"
	export VITSEG_BENCH_MIN_TIME="${VITSEG_BENCH_MIN_TIME:-2s}" VITSEG_BENCH_LATENCY_TIME="${VITSEG_BENCH_LATENCY_TIME:-8s}"
fi
read -r -a extra_inference <<<"${VITSEG_BENCH_INFERENCE_ARGS:-}"
read -r -a extra_train <<<"${VITSEG_BENCH_TRAIN_ARGS:-}"

machine() {
	local model
	model="$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n1)"
	log "machine: nproc $(nproc), CPU ${model:-unknown}, load average $(cut -d' ' -f1-3 /proc/loadavg)"
}

run_inference() {
	log "inference -> $dir/inference.log"
	"$bin" inference -out "$dir" "${quick_inference[@]}" "${extra_inference[@]}" 2> >(tee "$dir/inference.log" >&2)
}

# reference_packages are the Debian packages of the training reference.
reference_packages=(python3-torch libopenblas0-openmp)

# install_reference_deps apt-get installs the reference packages that are missing.
install_reference_deps() {
	local missing=() p sudo=()
	for p in "${reference_packages[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
	((${#missing[@]})) || return 0
	if ((EUID != 0)); then
		sudo -n true 2>/dev/null ||
			die "the PyTorch reference needs ${missing[*]}: run sudo apt-get install -y --no-install-recommends ${missing[*]}"
		sudo=(sudo -n)
	fi
	command -v apt-get >/dev/null || die "the PyTorch reference needs the Debian packages ${missing[*]} (no apt-get here)"
	log "installing the reference's packages: ${missing[*]}"
	"${sudo[@]}" apt-get update -qq
	DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
	/usr/bin/python3 -c 'import torch' || die "python3-torch is installed but 'import torch' fails"
}

run_train() {
	install_reference_deps
	log "train -> $dir/train.log"
	"$bin" train -out "$dir" "${quick_train[@]}" "${extra_train[@]}" 2> >(tee "$dir/train.log" >&2)
}

run_pipeline() {
	log "pipeline -> $dir/pipeline.log (CPU profile: $dir/pipeline.cpu.prof)"
	VITSEG_BENCH_OUT="$dir" VITSEG_BENCH_CPUPROFILE="$dir/pipeline.cpu.prof" \
		go test -tags onnx -run '^$' -bench 'PipelineVsModel|PipelineStages' -benchtime 1x -timeout 30m \
		-o "$dir/pipeline.test" ./pipeline |
		tee "$dir/pipeline.log"
	go tool pprof -top -nodecount=30 "$dir/pipeline.test" "$dir/pipeline.cpu.prof" >"$dir/pipeline.pprof.txt" 2>/dev/null &&
		log "profile top: $dir/pipeline.pprof.txt"
}

if [[ $what == deps ]]; then
	install_reference_deps
	log "reference packages installed: ${reference_packages[*]}"
	exit 0
fi
[[ $what == all ]] && install_reference_deps # Before the first hour of measurements, not after.
machine
go build -tags onnx -o "$bin" ./bench/cmd/vitseg-bench
case $what in
inference) run_inference ;;
train) run_train ;;
pipeline) run_pipeline ;;
all)
	run_inference
	run_train
	run_pipeline
	;;
esac
machine
echo
echo "=== summary ($dir)"
"$bin" summary "$dir"
