#!/usr/bin/env bash
# Runs the local development stack for the vitseg demo:
#
#   - the devbroker (Kafka protocol) on 127.0.0.1:9092 with the topics
#     vitseg.images, vitseg.results and vitseg.deadletter (4 partitions each),
#     its data kept in the state directory;
#   - MinIO on 127.0.0.1:9000 with a Kafka notification target, the buckets
#     pets and models, and s3:ObjectCreated:* events of pets/uploads/ sent to
#     vitseg.images.
#
# `up` writes fresh random MinIO root credentials and the endpoints to an env
# file (mode 0600) that vitseg reads through its VITSEG_* variables:
#
#   source "$(scripts/devstack.sh env-file)"
#
# Usage: scripts/devstack.sh up|down [--purge]|status|env-file
#
#   up        start what is not running (idempotent) and set up buckets/topics
#   down      stop what `up` started; --purge also deletes the data
#   status    show what runs; exit status 0 only when everything runs
#   env-file  print the env file's path
#
# Environment: VITSEG_DEVSTACK_DIR (state directory, default
# ${XDG_STATE_HOME:-$HOME/.local/state}/vitseg/devstack),
# VITSEG_DEVSTACK_KAFKA_PORT (9092), VITSEG_DEVSTACK_MINIO_PORT (9000).
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
vitseg_load

state="${VITSEG_DEVSTACK_DIR:-${XDG_STATE_HOME:-$HOME/.local/state}/vitseg/devstack}"
kafka_port="${VITSEG_DEVSTACK_KAFKA_PORT:-9092}"
minio_port="${VITSEG_DEVSTACK_MINIO_PORT:-9000}"
kafka_addr="127.0.0.1:$kafka_port"
minio_addr="127.0.0.1:$minio_port"
env_file="$state/devstack.env"

topics=(vitseg.images vitseg.results vitseg.deadletter)
partitions=4
buckets=(pets models)
notify_bucket=pets
notify_prefix=uploads/
notify_topic=vitseg.images
notify_id=VITSEG
notify_arn="arn:minio:sqs::$notify_id:kafka"

log() { printf 'devstack: %s\n' "$*"; }
die() {
	printf 'devstack: error: %s\n' "$*" >&2
	exit 1
}

# pid_of NAME prints the pid of the running service NAME (devbroker or minio)
# started by this script, or fails. The pid must still belong to the same
# binary, so that a recycled pid is never signalled.
pid_of() {
	local name=$1 pidfile="$state/$1.pid" pid
	[[ -f $pidfile ]] || return 1
	pid="$(<"$pidfile")"
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	kill -0 "$pid" 2>/dev/null || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "/$name " || return 1
	printf '%s\n' "$pid"
}

minio_ready() { curl -fsS -o /dev/null "http://$minio_addr/minio/health/ready" 2>/dev/null; }

# port_busy PORT succeeds when something accepts connections on PORT.
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

random_hex() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }

# wait_for DESCRIPTION SECONDS NAME COMMAND... polls COMMAND until it succeeds,
# failing if the service NAME dies or time runs out.
wait_for() {
	local what=$1 secs=$2 name=$3
	shift 3
	local deadline=$((SECONDS + secs))
	until "$@"; do
		# Only liveness here: right after the fork the pid may not show the
		# binary's command line yet.
		kill -0 "$(<"$state/$name.pid")" 2>/dev/null || die "$name exited; see $state/$name.log"
		((SECONDS < deadline)) || die "$what not ready after ${secs}s; see $state/$name.log"
		sleep 0.2
	done
}

start_devbroker() {
	local bin topic_specs t pid
	if pid="$(pid_of devbroker)"; then
		log "devbroker already running (pid $pid) on $kafka_addr"
		return
	fi
	port_busy "$kafka_port" && die "port $kafka_port is in use (set VITSEG_DEVSTACK_KAFKA_PORT)"
	bin="$vitseg_devbroker_bin"
	topic_specs=""
	for t in "${topics[@]}"; do topic_specs+="${topic_specs:+,}$t:$partitions"; done
	rm -f "$state/kafka.addrs"
	setsid "$bin" --listen "$kafka_addr" --data-dir "$state/kafka" --addr-file "$state/kafka.addrs" \
		--topics "$topic_specs" >>"$state/devbroker.log" 2>&1 </dev/null &
	echo $! >"$state/devbroker.pid"
	wait_for "devbroker" 30 devbroker test -s "$state/kafka.addrs"
	log "devbroker running (pid $(<"$state/devbroker.pid")) on $kafka_addr, data in $state/kafka"
}

start_minio() {
	local bin pid
	if pid="$(pid_of minio)"; then
		log "minio already running (pid $pid) on $minio_addr"
		return
	fi
	port_busy "$minio_port" && die "port $minio_port is in use (set VITSEG_DEVSTACK_MINIO_PORT)"
	bin="$vitseg_minio_bin"
	mkdir -p "$state/minio-certs"
	# Credentials travel in the environment, never on a command line.
	(
		export MINIO_ROOT_USER="$access_key" MINIO_ROOT_PASSWORD="$secret_key"
		export MINIO_BROWSER=off MINIO_UPDATE=off
		export "MINIO_NOTIFY_KAFKA_ENABLE_$notify_id=on"
		export "MINIO_NOTIFY_KAFKA_BROKERS_$notify_id=$kafka_addr"
		export "MINIO_NOTIFY_KAFKA_TOPIC_$notify_id=$notify_topic"
		exec setsid "$bin" server --address "$minio_addr" --certs-dir "$state/minio-certs" "$state/minio" \
			>>"$state/minio.log" 2>&1 </dev/null
	) &
	echo $! >"$state/minio.pid"
	wait_for "minio" 60 minio minio_ready
	log "minio running (pid $(<"$state/minio.pid")) on $minio_addr, data in $state/minio"
}

write_env_file() {
	local tmp
	tmp="$(mktemp "$state/.devstack.env.XXXXXX")" # mode 0600
	cat >"$tmp" <<EOF
# vitseg dev stack, written by scripts/devstack.sh up at $(date -u +%FT%TZ).
# Source it: source $env_file
export VITSEG_KAFKA_BROKERS=$kafka_addr
export VITSEG_KAFKA_INPUT_TOPIC=vitseg.images
export VITSEG_KAFKA_RESULT_TOPIC=vitseg.results
export VITSEG_KAFKA_DLQ_TOPIC=vitseg.deadletter
export VITSEG_S3_ENDPOINT=$minio_addr
export VITSEG_S3_REGION=us-east-1
export VITSEG_S3_ACCESS_KEY=$access_key
export VITSEG_S3_SECRET_KEY=$secret_key
export VITSEG_ALLOW=$notify_bucket/$notify_prefix
export VITSEG_REGISTRY_BUCKET=models
EOF
	chmod 0600 "$tmp"
	mv -f "$tmp" "$env_file"
}

# read_credentials sets access_key and secret_key from the env file.
read_credentials() {
	access_key="$(sed -n 's/^export VITSEG_S3_ACCESS_KEY=//p' "$env_file" 2>/dev/null || true)"
	secret_key="$(sed -n 's/^export VITSEG_S3_SECRET_KEY=//p' "$env_file" 2>/dev/null || true)"
}

cmd_up() {
	"$vitseg_root/scripts/setup.sh" minio devbroker
	mkdir -p "$state"
	chmod 0700 "$state"

	# Fresh credentials for each run; a MinIO that already runs keeps its own.
	if pid_of minio >/dev/null; then
		read_credentials
		[[ -n $access_key && -n $secret_key ]] || die "minio runs but $env_file lacks its credentials; run down then up"
	else
		access_key="vitseg-$(random_hex 6)"
		secret_key="$(random_hex 20)"
	fi

	start_devbroker
	start_minio
	write_env_file

	(
		export VITSEG_S3_ACCESS_KEY="$access_key" VITSEG_S3_SECRET_KEY="$secret_key"
		IFS=,
		"$vitseg_tools_dir/stackinit" --s3-endpoint "$minio_addr" --kafka-brokers "$kafka_addr" \
			--buckets "${buckets[*]}" --notify "$notify_bucket/$notify_prefix" --notify-arn "$notify_arn"
	) | sed 's/^/devstack: /'
	log "env file: $env_file (source it to use the stack)"
}

# stop_service NAME stops the service NAME if this script started it.
stop_service() {
	local name=$1 pid i
	if ! pid="$(pid_of "$name")"; then
		log "$name not running"
		rm -f "$state/$name.pid"
		return
	fi
	kill -TERM "$pid"
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.2
	done
	if kill -0 "$pid" 2>/dev/null; then
		log "$name (pid $pid) ignored SIGTERM for 20s; killing it"
		kill -KILL "$pid"
	fi
	rm -f "$state/$name.pid"
	log "$name stopped (pid $pid)"
}

cmd_down() {
	local purge=false
	case ${1:-} in
	"") ;;
	--purge) purge=true ;;
	*) die "down: unknown option '$1'" ;;
	esac
	stop_service minio
	stop_service devbroker
	rm -f "$env_file" "$state/kafka.addrs"
	if $purge; then
		rm -rf "$state/kafka" "$state/minio" "$state/minio-certs" "$state"/*.log
		log "purged the data in $state"
	fi
}

cmd_status() {
	local ok=0 pid
	if pid="$(pid_of devbroker)"; then
		log "devbroker running (pid $pid) on $kafka_addr"
	else
		log "devbroker stopped"
		ok=1
	fi
	if pid="$(pid_of minio)"; then
		log "minio running (pid $pid) on $minio_addr"
	else
		log "minio stopped"
		ok=1
	fi
	[[ -f $env_file ]] && log "env file: $env_file"
	return "$ok"
}

case ${1:-} in
up) cmd_up ;;
down) cmd_down "${@:2}" ;;
status) cmd_status ;;
env-file) printf '%s\n' "$env_file" ;;
*)
	sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2
	exit 2
	;;
esac
