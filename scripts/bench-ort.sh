#!/usr/bin/env bash
# Compares two ONNX Runtime libraries on this machine's CPU, side by side in one run: ONNX Runtime is one per
# process, so every round runs the same measurements once with each library, in ABBA order, and each ratio
# divides B's number by A's from the same round.
#
#   inference  vitseg-bench inference (small and article at batch 1, 8, 32; images/s), one round per process
#   train      BenchmarkTrainStep/small of package training (GoMLX onnx:cpu, batch 16; images/s)
#   cpu-time   CPU seconds per image (user + system, /usr/bin/time) and whole-process images/s of `vitseg
#              segment --device cpu` on 96 photos of the sample dataset (the shipped small model, batch 8, 1 and
#              2 intra-op threads) and of the training benchmark: on a loaded machine CPU time is the steadier
#              measure of cost than images/s
#
# Usage: scripts/bench-ort.sh LIB_A LIB_B [ROUNDS]   (default 3 rounds; output under out/bench-ort/<UTC time>)
#
# Environment: VITSEG_BENCH_PRESETS (default small,article), VITSEG_BENCH_TRAIN_STEPS (default 6),
# VITSEG_BENCH_CPUTIME_ONLY=1 (only the cpu-time measurements).
# Besides images/s it compares each case's share of the MatMul ceiling measured in the same process.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=SCRIPTDIR/env.sh
source scripts/env.sh
[[ $# -ge 2 ]] || {
	sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
	exit 2
}
lib_a=$1 lib_b=$2 rounds=${3:-3}
dir="${VITSEG_BENCH_DIR:-$root/out/bench-ort/$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$dir"
go build -tags onnx -o "$dir/vitseg-bench" ./bench/cmd/vitseg-bench
go test -tags onnx -c -o "$dir/training.test" ./training
go build -tags onnx -o "$dir/vitseg" ./cmd/vitseg
data=${VITSEG_DATASET_DIR:-$root/../shared/datasets/oxford-pets-sample}
mapfile -t photos < <(find "$data/images" -maxdepth 1 -name '*.jpg' | LC_ALL=C sort | head -96)

# cputime LABEL ROUND NAME IMAGES CMD... runs CMD under /usr/bin/time and records CPU seconds per image.
cputime() {
	local label=$1 r=$2 n=$3 images=$4 t
	shift 4
	/usr/bin/time -o "$dir/time.out" -f '%U %S %e' "$@" >/dev/null 2>&1 || echo "bench-ort: $label failed" >&2
	t=$(tail -1 "$dir/time.out")
	awk -v r="$r" -v n="$n" -v l="$label" -v i="$images" -v t="$t" 'BEGIN { split(t, a, " ")
		printf "%s\t%s\t%s CPU-s/image\t%.5f\n%s\t%s\t%s images/s (wall, whole process)\t%.3f\n", r, n, l, (a[1] + a[2]) / i, r, n, l, i / a[3] }' \
		>>"$dir/results.tsv"
}

measure() { # measure ROUND NAME LIB
	local out="$dir/r$1-$2"
	mkdir -p "$out"
	cputime "segment small b8 1 thread" "$1" "$2" "${#photos[@]}" env VITSEG_ORT_LIB="$3" "$dir/vitseg" segment \
		--model model/zoo/small/model.onnx --device cpu --intra-op-threads 1 --batch 8 -o "$out/masks" "${photos[@]}"
	cputime "segment small b8 2 threads" "$1" "$2" "${#photos[@]}" env VITSEG_ORT_LIB="$3" "$dir/vitseg" segment \
		--model model/zoo/small/model.onnx --device cpu --intra-op-threads 2 --batch 8 -o "$out/masks" "${photos[@]}"
	cputime "train small b16" "$1" "$2" $((16 * ${VITSEG_BENCH_TRAIN_STEPS:-6})) env -C "$root/training" VITSEG_ORT_LIB="$3" \
		ONNXRUNTIME_SHARED_LIBRARY_PATH="$3" "$dir/training.test" -test.run '^$' -test.bench 'TrainStep/small' \
		-test.benchtime "${VITSEG_BENCH_TRAIN_STEPS:-6}x"
	[[ ${VITSEG_BENCH_CPUTIME_ONLY:-} == 1 ]] && return
	"$dir/vitseg-bench" inference -ort-lib "$3" -presets "${VITSEG_BENCH_PRESETS:-small,article}" -batches 1,8,32 -rounds 1 -min-time 1s \
		-matmul 1024 -nospin-matmul=false -out "$out" >"$out/inference.txt" 2>"$out/inference.log"
	(cd training && VITSEG_ORT_LIB="$3" ONNXRUNTIME_SHARED_LIBRARY_PATH="$3" "$dir/training.test" \
		-test.run '^$' -test.bench 'TrainStep/small' -test.benchtime "${VITSEG_BENCH_TRAIN_STEPS:-6}x") >"$out/train.txt" 2>&1
	jq -r --arg r "$1" --arg n "$2" '.rows[] | select(.unit == "images/s" or .unit == "ratio") | [$r, $n, .name, .value] | @tsv' \
		"$out/inference.json" >>"$dir/results.tsv"
	awk -v r="$1" -v n="$2" '/images\/s/ { for (i = 1; i <= NF; i++) if ($i == "images/s") print r "\t" n "\ttrain small b16\t" $(i-1) }' \
		"$out/train.txt" >>"$dir/results.tsv"
}

printf 'bench-ort: A=%s\nbench-ort: B=%s\nbench-ort: load %s\n' "$lib_a" "$lib_b" "$(cut -d' ' -f1-3 /proc/loadavg)" | tee "$dir/header.txt"
for ((r = 1; r <= rounds; r++)); do
	if ((r % 2)); then order=(A B); else order=(B A); fi
	for n in "${order[@]}"; do
		lib=$lib_a
		[[ $n == B ]] && lib=$lib_b
		echo "bench-ort: round $r $n ($(date -u +%T), load $(cut -d' ' -f1 /proc/loadavg))" >&2
		measure "$r" "$n" "$lib"
	done
done
echo "bench-ort: load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$dir/header.txt"
# Per case: median of A, median of B, median and range of the per-round ratios B/A.
awk -F'\t' '
	{ v[$3, $1, $2] = $4; cases[$3] = 1; if ($1 > nr) nr = $1 }
	function median(a, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
	END {
		printf "| case | A | B | B/A per round: median (min .. max) |\n|---|---|---|---|\n"
		for (c in cases) {
			delete A; delete B; delete R; lo = 1e9; hi = 0
			for (r = 1; r <= nr; r++) { A[r] = v[c, r, "A"]; B[r] = v[c, r, "B"]; R[r] = B[r] / A[r]; if (R[r] < lo) lo = R[r]; if (R[r] > hi) hi = R[r] }
			printf "| %s | %.4g | %.4g | %.3f (%.3f .. %.3f) |\n", c, median(A, nr), median(B, nr), median(R, nr), lo, hi
		}
	}' "$dir/results.tsv" | tee "$dir/summary.md"
