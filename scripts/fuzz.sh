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
	go test -tags onnx -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "$pkg"
	ran=$((ran + 1))
done
if ((ran == 0)); then
	echo "fuzz: no target matches: $*" >&2
	exit 2
fi
