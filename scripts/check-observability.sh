#!/usr/bin/env bash
# Checks the chart's dashboard and alert rules, offline and then for real:
#
#   1. promtool check rules and promtool test rules (charts/vitseg/alerts);
#   2. a dev stack on its own ports and state directory, a real `vitseg serve`
#      on the registry's model, and a real Prometheus scraping it every 2s and
#      evaluating the alert rules rendered with alerts/tests/fast-values.yaml
#      (the same template, minute windows and 10s `for`s);
#   3. a burst of uploads and faults: photos, files that are no image, plain
#      references to missing objects, a second model version (a hot reload);
#      VitsegDeadLetterRatioHigh must fire;
#   4. MinIO stopped while references keep coming: VitsegPartitionStalled must
#      fire;
#   5. tools/cmd/obscheck: every dashboard query (template variables
#      substituted) returns data, and every alert expression is valid and
#      each metric and label it selects exists (kube-state-metrics' series
#      excepted: no cluster here; promtool's tests cover those alerts).
#
# Everything it starts is stopped on exit. About three minutes when the
# runtimes and builds are cached.
#
# Usage: scripts/check-observability.sh
# Environment: VITSEG_OBS_PORT_BASE (default 19300): the dev broker, MinIO,
# serve and Prometheus listen on this port and the three after it.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
chart=$root/charts/vitseg

log() { printf 'check-observability: %s\n' "$*"; }
die() {
	printf 'check-observability: error: %s\n' "$*" >&2
	exit 1
}

scripts/setup.sh all prometheus
# shellcheck source=env.sh
source scripts/env.sh
export PATH="$PATH:$VITSEG_CACHE/prometheus/bin"

base=${VITSEG_OBS_PORT_BASE:-19300}
export VITSEG_DEVSTACK_KAFKA_PORT=$base VITSEG_DEVSTACK_MINIO_PORT=$((base + 1))
http=127.0.0.1:$((base + 2))
prom=127.0.0.1:$((base + 3))
work=$(mktemp -d)
export VITSEG_DEVSTACK_DIR=$work/devstack
bin=$work/bin
serve_pid= prom_pid=

cleanup() {
	local status=$?
	for pid in $serve_pid $prom_pid; do
		kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
	done
	scripts/devstack.sh down >/dev/null 2>&1 || true
	if ((status != 0)); then
		for f in "$work"/serve.log "$work"/prometheus.log; do
			[[ -f $f ]] && { echo "--- last lines of $f"; tail -20 "$f"; }
		done
	fi
	rm -rf "$work"
	exit "$status"
}
trap cleanup EXIT INT TERM

log "promtool: check and unit-test the shipped rules"
promtool check rules "$chart/alerts/vitseg-rules.yaml"
promtool test rules "$chart/alerts/tests/vitseg-rules_test.yaml"

log "building vitseg, obscheck and obsgen"
mkdir -p "$bin"
go build -tags onnx -o "$bin/vitseg" ./cmd/vitseg
(cd tools && GOWORK=off go build -o "$bin/" ./cmd/obscheck ./cmd/obsgen)
"$bin/obsgen" -chart "$chart" -values "$chart/alerts/tests/fast-values.yaml" -rules-out "$work/fast-rules.yaml"
promtool check rules "$work/fast-rules.yaml"

scripts/devstack.sh up
# shellcheck disable=SC1090
source "$(scripts/devstack.sh env-file)"
"$bin/vitseg" models publish model/zoo/small/model.onnx

"$bin/vitseg" serve --registry-poll 2s --http-addr "$http" --device cpu >"$work/serve.log" 2>&1 &
serve_pid=$!

cat >"$work/prometheus.yml" <<YAML
global: {scrape_interval: 2s, evaluation_interval: 2s}
rule_files: ["$work/fast-rules.yaml"]
scrape_configs:
  - job_name: vitseg
    static_configs: [{targets: ["$http"]}]
YAML
prometheus --config.file "$work/prometheus.yml" --storage.tsdb.path "$work/prometheus" \
	--web.listen-address "$prom" >"$work/prometheus.log" 2>&1 &
prom_pid=$!

for _ in $(seq 1 120); do
	curl -fsS "http://$http/readyz" >/dev/null 2>&1 && curl -fsS "http://$prom/-/ready" >/dev/null 2>&1 && break
	kill -0 "$serve_pid" 2>/dev/null || die "vitseg serve exited"
	kill -0 "$prom_pid" 2>/dev/null || die "prometheus exited"
	sleep 0.5
done
curl -fsS "http://$http/readyz" >/dev/null || die "vitseg serve never became ready"
obscheck() { "$bin/obscheck" "$1" -prometheus "http://$prom" "${@:2}"; }
firing() { printf 'ALERTS{alertname="%s",alertstate="firing"}' "$1"; }

run=obs-$(date +%Y%m%d-%H%M%S)
data=${VITSEG_DATASET_DIR:-$root/../shared/datasets/oxford-pets-sample}
# serve creates a dead-letter class's series at its first dead letter, which rate() cannot see: a first
# dead letter of each class, scraped, then the burst.
log "burst: a file that is no image and a reference to a missing object, then 6 photos, 2 more of each and a second model version"
mkdir -p "$work/first/images" "$work/burst/images"
mapfile -t photos < <(find "$data/images" -maxdepth 1 -name '*.jpg' | sort)
((${#photos[@]} >= 6)) || die "need 6 photos in $data/images"
cp "${photos[@]:0:6}" "$work/burst/images/"
echo "not an image 1" >"$work/first/images/broken-1.jpg"
for i in 2 3; do echo "not an image $i" >"$work/burst/images/broken-$i.jpg"; done
missing() { "$bin/obscheck" produce -brokers "$VITSEG_KAFKA_BROKERS" -topic "$VITSEG_KAFKA_INPUT_TOPIC" -bucket pets "$@"; }
"$bin/vitseg" dataset upload --images-only "$work/first" "s3://pets/uploads/$run"
missing "uploads/$run/missing-1.jpg"
obscheck wait -timeout 1m 'count(vitseg_dead_lettered_total) >= 2'
"$bin/vitseg" dataset upload --images-only "$work/burst" "s3://pets/uploads/$run"
missing "uploads/$run/missing-2.jpg" "uploads/$run/missing-3.jpg"
"$bin/vitseg" models publish --force model/zoo/small/model.onnx
obscheck wait -timeout 3m 'sum(vitseg_images_processed_total) >= 6' 'sum(vitseg_dead_lettered_total) >= 6' \
	'vitseg_model_reloads_total{result="loaded"} >= 1' "$(firing VitsegDeadLetterRatioHigh)"

log "fault: MinIO stopped while references keep coming"
kill -TERM "$(<"$VITSEG_DEVSTACK_DIR/minio.pid")"
keys=()
while IFS= read -r f; do keys+=("uploads/$run/$(basename "$f")"); done < <(find "$work/burst/images" -name '[A-Z]*.jpg' | sort)
missing "${keys[@]}"
obscheck wait -timeout 3m 'vitseg_retries_total{operation="s3_get"} > 0' "$(firing VitsegPartitionStalled)"

log "every dashboard query and alert expression against Prometheus"
obscheck queries -dashboard "$chart/dashboards/vitseg.json" -rules "$chart/alerts/vitseg-rules.yaml" \
	-var datasource=prometheus -var job=vitseg -var instance=.+ -var __rate_interval=1m -var __interval=2s \
	-absent kube_pod_status_ready,kube_job_status_failed,kube_job_owner
log "passed"
