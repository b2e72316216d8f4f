#!/usr/bin/env bash
# The vitseg demo, end to end on this machine:
#
#   1. installs what is missing (ONNX Runtime, MinIO, the dev broker) into the cache and builds bin/vitseg;
#   2. starts the dev stack: a Kafka-protocol dev broker and MinIO, whose bucket notifications for
#      pets/uploads/ go to the topic vitseg.images;
#   3. publishes the shipped model to the registry (bucket models) and runs `vitseg serve` on it, hot-reloading
#      any version published later;
#   4. uploads the sample pets (../shared/datasets/oxford-pets-sample, or VITSEG_DATASET_DIR, or the full
#      Oxford-IIIT Pet downloaded with `vitseg dataset download` when neither exists) to pets/uploads/demo-RUN/;
#   5. waits for one result or dead-letter event per upload, prints a summary and writes a contact sheet
#      (photos with their mask overlays) to out/demo/, then reconciles the uploads with the events
#      (`vitseg reconcile`);
#   6. stops everything it started.
#
# With --candidate[=FILE], serve evaluates every image with the registry's candidate as well (shadow fraction 1, no CPU budget)
# and the demo publishes FILE (default: the demo's model again) as the candidate while the uploads are under way,
# then waits for serve's automatic decision on it (promoted or rejected, with the reason) and prints it with
# `vitseg models status` (docs/ARCHITECTURE.md, *Model lifecycle*).
#
# Usage: scripts/demo.sh [--candidate[=FILE.onnx]]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

candidate=
for arg in "$@"; do
	case $arg in
	--candidate) candidate=default ;;
	--candidate=*) candidate=${arg#--candidate=} ;;
	-h | --help)
		sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
		exit 0
		;;
	*)
		echo "demo: unknown argument $arg (usage: scripts/demo.sh [--candidate[=FILE.onnx]])" >&2
		exit 2
		;;
	esac
done

scripts/setup.sh all
# shellcheck source=env.sh
source scripts/env.sh
mkdir -p bin out/demo
go build -tags onnx -o bin/vitseg ./cmd/vitseg

model=${VITSEG_DEMO_MODEL:-model/zoo/small/model.onnx}
[[ -f $model ]] || { echo "demo: model $model not found" >&2; exit 1; }
[[ $candidate != default ]] || candidate=$model
[[ -z $candidate || -f $candidate ]] || { echo "demo: candidate $candidate not found" >&2; exit 1; }

data=${VITSEG_DATASET_DIR:-$root/../shared/datasets/oxford-pets-sample}
if [[ ! -d $data/images ]]; then
	data=$root/out/oxford-iiit-pet
	if [[ ! -d $data/images ]]; then
		echo "demo: no sample dataset; downloading Oxford-IIIT Pet into $data"
		bin/vitseg dataset download --out "$data"
	fi
fi

serve_pid=
cleanup() {
	status=$?
	if [[ -n $serve_pid ]] && kill -0 "$serve_pid" 2>/dev/null; then
		kill -TERM "$serve_pid" 2>/dev/null || true
		wait "$serve_pid" 2>/dev/null || true
	fi
	scripts/devstack.sh down || true
	exit "$status"
}
trap cleanup EXIT INT TERM

scripts/devstack.sh up
# shellcheck disable=SC1090
source "$(scripts/devstack.sh env-file)"

# The registry serves the model: publish the shipped one (the first version becomes current; on a dev stack
# kept from an earlier run the gate may keep the version already there).
bin/vitseg models publish "$model" || true
bin/vitseg models list

http=127.0.0.1:${VITSEG_DEMO_HTTP_PORT:-8080}
lifecycle=()
[[ -z $candidate ]] || lifecycle=(--shadow-fraction 1 --shadow-cpu-share 0 --shadow-min-images "${VITSEG_DEMO_SHADOW_MIN_IMAGES:-40}")
bin/vitseg serve --registry-poll 5s --http-addr "$http" --log-format console --device auto "${lifecycle[@]}" \
	>out/demo/serve.log 2>&1 &
serve_pid=$!
for _ in $(seq 1 120); do
	curl -fsS "http://$http/readyz" >/dev/null 2>&1 && break
	kill -0 "$serve_pid" 2>/dev/null || { echo "demo: vitseg serve exited; see out/demo/serve.log" >&2; exit 1; }
	sleep 0.5
done
curl -fsS "http://$http/readyz" >/dev/null || { echo "demo: vitseg serve never became ready" >&2; exit 1; }
echo "demo: vitseg serve is ready on http://$http (metrics at /metrics)"

run=demo-$(date +%Y%m%d-%H%M%S)
files=$(find "$data/images" -maxdepth 1 -type f | wc -l)
echo "demo: uploading $files files from $data/images to s3://pets/uploads/$run/"
if [[ -z $candidate ]]; then
	bin/vitseg dataset upload --images-only "$data" "s3://pets/uploads/$run"
else
	bin/vitseg dataset upload --images-only "$data" "s3://pets/uploads/$run" &
	upload_pid=$!
	sleep 3 # Mid-run: the first photos are being served.
	published=$(bin/vitseg models publish --candidate --force "$candidate")
	echo "demo: $published"
	version=$(sed -n 's/^version \([0-9]*\) proposed as the candidate.*/\1/p' <<<"$published")
	wait "$upload_pid"
fi

bin/vitseg results --source-prefix "uploads/$run/" --expect "$files" --timeout 15m \
	--contact-sheet "out/demo/contact-sheet-$run.png"
# The books: every upload has a result or a dead letter and every mask exists (exit 1 names what is missing).
bin/vitseg reconcile --bucket pets --prefix "uploads/$run/" || echo "demo: reconcile found something missing (above)" >&2
curl -fsS "http://$http/metrics" | grep -E '^vitseg_(images_processed_total|dead_lettered_total|model_info)' || true
if [[ -n $candidate ]]; then
	if [[ -z ${version:-} ]]; then
		echo "demo: the candidate was not proposed (above); no decision to wait for" >&2
	else
		echo "demo: waiting for serve's decision on candidate $version"
		for _ in $(seq 1 120); do
			bin/vitseg models status | grep -q "^last decision: *$version " && break
			sleep 1
		done
		bin/vitseg models status
		curl -fsS "http://$http/metrics" | grep -E '^vitseg_(shadow_images_total|lifecycle_decisions_total)' || true
	fi
fi
echo "demo: done; serve log in out/demo/serve.log"
