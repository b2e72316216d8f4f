#!/usr/bin/env bash
# The GPU check of vitseg, run on an NVIDIA GPU machine from the repository root (see docs/PERFORMANCE.md,
# "GPU"). PAYLOAD holds what that machine cannot fetch, xz-compressed where large:
#
#   vitseg.xz, vitseg-gpucheck.xz      binaries built here: go build -tags onnx ./cmd/vitseg ./bench/cmd/vitseg-gpucheck
#   libonnxruntime.so.xz                ONNX Runtime 1.29.0 core of npm com.github.asus4.onnxruntime@0.4.9
#   libonnxruntime_providers_shared.so  from the same package
#   cat.jpg                             a sample photo
#
# It records the machine (GPU, driver, CUDA and cuDNN that PyTorch ships, which of the CUDA provider's NEEDED
# libraries exist), tries vitseg with --device cuda and --device auto, measures vitseg on ONNX Runtime (CUDA where
# it loads, CPU otherwise) and GoMLX training on onnx:cuda with vitseg-gpucheck, and the same model in PyTorch on
# CUDA with bench/reference/vit_gpu.py. Everything is printed and copied to $OUT when set.
#
# Usage: scripts/gpu-check.sh PAYLOAD
set -uo pipefail
payload=$(cd "$1" && pwd)
repo=$(pwd)
out=${OUT:-/tmp/gpu-check-out}
mkdir -p "$out" /tmp/gpu-check && cd /tmp/gpu-check || exit 1

section() { printf '\n== %s\n' "$*"; }

section machine
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "cudnn", torch.backends.cudnn.version(), "gpu", torch.cuda.get_device_name())'
section "CUDA provider NEEDED libraries (readelf of libonnxruntime_providers_cuda.so 1.29.0)"
libdirs=()
for lib in libcudart.so.13 libcublas.so.13 libcublasLt.so.13 libcurand.so.10 libcudnn.so.9 libcuda.so.1; do
	found=$(find / -xdev -name "$lib" -not -path '/proc/*' 2>/dev/null | head -1)
	echo "$lib: ${found:-MISSING}"
	[[ -n $found ]] && libdirs+=("$(dirname "$found")")
done
export LD_LIBRARY_PATH="$(printf '%s:' "${libdirs[@]}")${LD_LIBRARY_PATH:-}"

section payload
mkdir -p ort
xz -dc "$payload/libonnxruntime.so.xz" >ort/libonnxruntime.so
cp "$payload/libonnxruntime_providers_shared.so" ort/
xz -dc "$payload/vitseg.xz" >vitseg && xz -dc "$payload/vitseg-gpucheck.xz" >vitseg-gpucheck && chmod +x vitseg vitseg-gpucheck
ls -la ort vitseg vitseg-gpucheck
export VITSEG_ORT_LIB=$PWD/ort/libonnxruntime.so ONNXRUNTIME_SHARED_LIBRARY_PATH=$PWD/ort/libonnxruntime.so GOMLX_NO_AUTO_INSTALL=1

section "vitseg --device cuda / auto"
./vitseg model init --preset small -o small.onnx
./vitseg segment --model small.onnx --device cuda -o seg "$payload/cat.jpg"; echo "exit status $?"
./vitseg segment --model small.onnx --device auto -o seg "$payload/cat.jpg"; echo "exit status $?"

section "vitseg on ONNX Runtime and GoMLX (vitseg-gpucheck)"
./vitseg-gpucheck -presets small,article -batches 1,8,32 -devices cuda,cpu -train-backend onnx:cuda 2>&1 | tee "$out/vitseg-gpucheck.jsonl"
section "GoMLX training on onnx:cpu, same machine (for comparison)"
./vitseg-gpucheck -presets small,article -batches 1 -devices cpu -train-backend onnx:cpu 2>&1 | grep '"train"' | tee -a "$out/vitseg-gpucheck.jsonl"

section "PyTorch on CUDA, same model (bench/reference/vit_gpu.py)"
PYTHONUNBUFFERED=1 python3 "$repo/bench/reference/vit_gpu.py" --device cuda --presets small,article --batches 1,8,32 2>&1 | tee "$out/pytorch-cuda.jsonl"
