#!/usr/bin/env bash
# Sets up everything the tests need (ONNX Runtime, MinIO, the dev broker: cached by version) and runs every
# check: go vet and the tests of both modules (the integration tests start real MinIO and dev-broker processes
# on loopback and stop them), bounded fuzzing, and the offline checks of the Dockerfile and the Helm chart.
#
# Usage: scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

# cuda: the CUDA provider files, for the stand-in CUDA tests of e2e (about 180 MB, cached by version).
scripts/setup.sh all cuda
# shellcheck source=env.sh
source scripts/env.sh
export VITSEG_DATASET_DIR=${VITSEG_DATASET_DIR:-$PWD/../shared/datasets/oxford-pets-sample}

echo "== gofmt"
unformatted=$(gofmt -l . | grep -v '^tools/' || true)
if [[ -n $unformatted ]]; then
	echo "gofmt needed: $unformatted" >&2
	exit 1
fi
echo "== go vet"
go vet -tags onnx ./...
(cd tools && go vet ./...)
echo "== staticcheck"
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 -tags onnx ./...

echo "== function and file length (no non-test function over 80 lines, no file over 400)"
(cd tools && go run ./cmd/funclen -max 80 -max-file 400 ..)

echo "== layering (no product code imports test support)"
(cd tools && go run ./cmd/layercheck ..)

echo "== go test: tools module"
(cd tools && go test -count=1 ./...)

echo "== go test: vitseg"
go test -tags onnx -count=1 -timeout 40m ./...

echo "== fuzz"
scripts/fuzz.sh

echo "== deployment checks"
scripts/check-deploy.sh

echo "== observability (promtool, then a real Prometheus scraping a real serve)"
scripts/check-observability.sh
