#!/usr/bin/env bash
# A single-node Apache Kafka broker (KRaft: broker and controller in one JVM, no ZooKeeper)
# for development and tests, run straight from the Kafka jars on Maven Central, since
# these machines have no Docker engine and reach Maven Central but no other download site.
#
#   scripts/kafka.sh up|down|status|fetch
#
# Environment (defaults in brackets):
#   KAFKA_PORT [9092]             client (PLAINTEXT) listener on 127.0.0.1
#   KAFKA_CONTROLLER_PORT [9093]  KRaft controller listener on 127.0.0.1
#   KAFKA_DATA_DIR [.data/kafka]  config, logs, pid and data; relative paths are taken
#                                 from the repo root, so the result does not depend on cwd
#   KAFKA_FRESH=1                 `up` wipes KAFKA_DATA_DIR first (stopping a broker
#                                 running from it), for tests that need an empty cluster
#   KAFKA_HEAP_OPTS [-Xms256m -Xmx512m]
#   JAVA [java]                   Java 17+
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
pom="$root/infra/kafka/pom.xml"
# Passed to Maven as -Dkafka.version (overriding the pom's default), so the jars in
# $home always are this version.
kafka_version=3.9.2
home="$root/.tools/kafka/$kafka_version"
libs="$home/libs"

port=${KAFKA_PORT:-9092}
controller_port=${KAFKA_CONTROLLER_PORT:-9093}
data_dir=${KAFKA_DATA_DIR:-.data/kafka}
case "$data_dir" in /*) ;; *) data_dir="$root/$data_dir" ;; esac
java=${JAVA:-java}
heap_opts=${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}
# Any fixed 16 bytes work: the id only has to be the same for every start from one data
# dir, and a constant saves a JVM start (StorageTool random-uuid) per fresh cluster.
# base64url("ticket-dev-kafka").
cluster_id=dGlja2V0LWRldi1rYWZrYQ
start_timeout=120
stop_timeout=30

pid_file="$data_dir/kafka.pid"
log_file="$data_dir/kafka.log"
props="$data_dir/server.properties"
addr="127.0.0.1:$port"

say() { echo "kafka: $*"; }
die() { echo "kafka: $*" >&2; exit 1; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# The pid in the pid file, if that process is alive and is still our broker (pids get
# reused after a reboot or a crash, and signalling a stranger would be bad).
running_pid() {
  [ -f "$pid_file" ] || return 1
  local pid
  pid=$(cat "$pid_file")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  ps -p "$pid" -o args= 2>/dev/null | grep -q 'kafka\.Kafka' || return 1
  echo "$pid"
}

fetch() {
  # The stamp holds the pom's checksum, so an edited pom refetches and a half-finished
  # copy (interrupted Maven) never counts as cached.
  local stamp="$home/.fetched" want
  want=$(cksum < "$pom")
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -f "$libs/kafka_2.13-$kafka_version.jar" ]; then
    return 0
  fi
  command -v mvn >/dev/null || die "mvn is needed once to fetch the Kafka $kafka_version jars into ${home#"$root"/}"
  say "fetching Kafka $kafka_version jars from Maven Central into ${libs#"$root"/}"
  local tmp="$home/libs.tmp" out
  rm -rf "$tmp"
  mkdir -p "$home"
  if ! out=$(mvn -q -B -Dstyle.color=never -f "$pom" dependency:copy-dependencies \
      -Dkafka.version="$kafka_version" -Dkafka.libs="$tmp" 2>&1); then
    echo "$out" >&2
    die "maven could not fetch the Kafka jars"
  fi
  rm -rf "$libs"
  mv "$tmp" "$libs"
  echo "$want" > "$stamp"
}

write_props() {
  cat > "$props" <<EOF
# Written by scripts/kafka.sh on every \`up\`; edits here are lost.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$data_dir/data

# One node: every internal topic must fit on it.
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
default.replication.factor=1
min.insync.replicas=1
# The defaults (50 each) make the first consumer group / transactional producer of a
# fresh cluster wait for 50 partitions to be created; one is plenty for one node.
offsets.topic.num.partitions=1
transaction.state.log.num.partitions=1

# Tests start consumer groups constantly; the 3 s default delay would slow every one.
group.initial.rebalance.delay.ms=0
num.partitions=3
# The services create their topics themselves; a typo must fail, not create a topic.
auto.create.topics.enable=false
EOF
}

up() {
  local pid
  if [ "${KAFKA_FRESH:-}" = 1 ]; then
    if running_pid >/dev/null; then down; fi
    case "$data_dir" in "$root" | "$root/" | / | "$HOME" | "$HOME/") die "refusing to wipe $data_dir" ;; esac
    rm -rf "$data_dir"
  elif pid=$(running_pid); then
    say "already running on $addr (pid $pid)"
    return 0
  fi

  command -v "$java" >/dev/null || die "java not found (set JAVA=/path/to/java, Java 17+)"
  # Otherwise our JVM would die on "Address already in use" and the wait below would
  # hand a client whatever else answers there (e.g. a dev broker on 9092 during tests).
  port_open "$port" && die "port $port is already in use by another process; set KAFKA_PORT"
  port_open "$controller_port" && die "port $controller_port is already in use by another process; set KAFKA_CONTROLLER_PORT"

  fetch
  mkdir -p "$data_dir"
  write_props

  if [ ! -f "$data_dir/data/meta.properties" ]; then
    local out
    if ! out=$("$java" -cp "$libs/*" -Dlog4j.configuration="file:$root/infra/kafka/log4j.properties" \
        kafka.tools.StorageTool format -t "$cluster_id" -c "$props" --ignore-formatted 2>&1); then
      echo "$out" >&2
      die "formatting storage in $data_dir/data failed"
    fi
  fi

  local started=$SECONDS
  # setsid: own session, so the broker outlives this script and a Ctrl-C in the calling
  # terminal; it execs (no fork) because a non-interactive shell's children do not lead
  # a process group, so $! is the JVM's pid.
  # shellcheck disable=SC2086 # heap_opts is a list of JVM flags
  nohup setsid "$java" $heap_opts -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
    -Dlog4j.configuration="file:$root/infra/kafka/log4j.properties" \
    -cp "$libs/*" kafka.Kafka "$props" > "$log_file" 2>&1 < /dev/null &
  pid=$!
  echo "$pid" > "$pid_file"

  # The port opens before the broker has caught up with the metadata log and unfenced
  # itself; clients connecting then get errors, so also wait for the line
  # KafkaRaftServer logs once startup has completed.
  while :; do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$pid_file"
      tail -n 30 "$log_file" >&2 || true
      die "broker exited during startup (log: $log_file)"
    fi
    if port_open "$port" && grep -q 'Kafka Server started' "$log_file" 2>/dev/null; then
      break
    fi
    if (( SECONDS - started >= start_timeout )); then
      tail -n 30 "$log_file" >&2 || true
      die "broker not ready after ${start_timeout}s (pid $pid still running; log: $log_file; stop it with: scripts/kafka.sh down)"
    fi
    sleep 0.2
  done
  say "up on $addr (pid $pid, ready in $(( SECONDS - started ))s, data ${data_dir#"$root"/})"
}

down() {
  local pid
  if ! pid=$(running_pid); then
    rm -f "$pid_file"
    say "not running"
    return 0
  fi
  # SIGTERM runs the broker's controlled shutdown, which closes log segments cleanly so
  # the next start does not have to recover them.
  kill -TERM "$pid" 2>/dev/null || true
  local waited=0
  while kill -0 "$pid" 2>/dev/null; do
    if (( waited >= stop_timeout * 5 )); then
      say "pid $pid still running after ${stop_timeout}s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.2
    waited=$(( waited + 1 ))
  done
  rm -f "$pid_file"
  say "stopped (pid $pid)"
}

status() {
  local pid
  if pid=$(running_pid); then
    say "running on $addr (pid $pid, data ${data_dir#"$root"/})"
  else
    say "not running ($addr)"
    exit 3
  fi
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  fetch) fetch ;;
  *) echo "usage: scripts/kafka.sh up|down|status|fetch" >&2; exit 2 ;;
esac
