#!/usr/bin/env bash
# Runs every fuzz target of the vitseg module for a bounded time, starting from its seed corpus in
# testdata/fuzz/<target> (which must exist and hold at least one file). New crashers are written to
# testdata/fuzz/<target> by `go test` itself; the script then fails.
#
# Usage: scripts/fuzz.sh [TARGET...]     (default: all targets below)
#
# Environment: FUZZTIME (per target, default 10s; any -fuzztime value, e.g. 1m or 5000x).
set -euo pipefail
cd "$(dirname "$0")/.."

fuzztime="${FUZZTIME:-10s}"

# target package
targets=(
	"FuzzParseMessage ./consumer"
	"FuzzDecode ./model/imaging"
	"FuzzEncodeMaskPNG ./model/imaging"
	"FuzzDecodeScaled ./model/imaging"
	"FuzzUpsampledMaskPNG ./model/imaging"
)

# fuzz_one NAME PKG runs one target. Go 1.26's fuzzing coordinator can report "context deadline exceeded" when
# -fuzztime ends while a worker is mid-call (go.dev/issue/75804, fixed in Go 1.27): a failure with that message
# and no failing input written is run again, twice at most; any other failure fails at once.
fuzz_one() {
	local name=$1 pkg=$2 log try
	log="$(mktemp)"
	for try in 1 2 3; do
		if go test -tags onnx -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "$pkg" 2>&1 | tee "$log"; then
			rm -f "$log"
			return 0
		fi
		if ! grep -q 'context deadline exceeded' "$log" || grep -q 'Failing input written' "$log" || ((try == 3)); then
			break
		fi
		echo "fuzz: $name stopped at the -fuzztime deadline without a failing input (go.dev/issue/75804); run $((try + 1)) of 3" >&2
	done
	rm -f "$log"
	return 1
}

selected=("$@")
ran=0
for entry in "${targets[@]}"; do
	read -r name pkg <<<"$entry"
	if ((${#selected[@]})) && [[ ! " ${selected[*]} " == *" $name "* ]]; then
		continue
	fi
	corpus="$pkg/testdata/fuzz/$name"
	if ! compgen -G "$corpus/*" >/dev/null; then
		echo "fuzz: $name has no seed corpus in $corpus" >&2
		exit 1
	fi
	echo "== fuzz $name ($pkg, $(find "$corpus" -type f | wc -l) seeds, $fuzztime)"
	fuzz_one "$name" "$pkg"
	ran=$((ran + 1))
done
if ((ran == 0)); then
	echo "fuzz: no target matches: $*" >&2
	exit 2
fi
