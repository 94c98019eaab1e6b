#!/usr/bin/env bash
# Makes a Docker daemon available for the integration tests of
# internal/runtime/docker, on a Debian machine where we are root (or have
# sudo). Idempotent, and quick when Docker already answers:
#   1. install Debian's docker.io if `docker` or `dockerd` is missing;
#   2. start dockerd in the background (no systemd needed) if `docker info`
#      fails, logging to $DOCKERD_LOG (default /tmp/dockerd.log);
#   3. wait up to $DOCKER_WAIT seconds (default 60) for it to answer;
#   4. print `docker version`.
# The daemon keeps running after the script ends; the tests then need
# BERTH_REQUIRE_DOCKER=1 to fail rather than skip without it.
set -euo pipefail

log="${DOCKERD_LOG:-/tmp/dockerd.log}"
wait_s="${DOCKER_WAIT:-60}"

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "docker.sh: need root or sudo" >&2; exit 1; }
  sudo="sudo"
fi

# answers succeeds when the daemon answers within a few seconds (a daemon
# still starting can hang a client).
answers() {
  timeout 10 $sudo docker info >/dev/null 2>&1
}

# alive succeeds when process $1 exists and is not a zombie (a killed daemon
# can stay a zombie for a while when PID 1 is slow to reap).
alive() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [ "${stat%% *}" != Z ]
}

# dockerd_running succeeds when a live dockerd process exists (read from
# /proc: minimal images lack procps).
dockerd_running() {
  local comm pid
  for comm in /proc/[0-9]*/comm; do
    pid=${comm#/proc/}
    pid=${pid%/comm}
    [ "$(cat "$comm" 2>/dev/null)" = dockerd ] && alive "$pid" && return 0
  done
  return 1
}

if ! command -v docker >/dev/null || ! command -v dockerd >/dev/null; then
  echo "== installing docker.io"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq docker.io >/dev/null
fi

# start_dockerd starts the daemon in the background, detached (setsid) so
# that it outlives this script and its process group.
starts=0
start_dockerd() {
  starts=$((starts + 1))
  echo "== starting dockerd (attempt $starts, log: $log)"
  # A daemon that died leaves its pid file behind, and a new one refuses to
  # start while it exists.
  local pidfile=/var/run/docker.pid
  if [ -f "$pidfile" ] && ! alive "$(cat "$pidfile" 2>/dev/null)"; then
    $sudo rm -f "$pidfile"
  fi
  $sudo setsid dockerd >>"$log" 2>&1 </dev/null &
}

if ! answers; then
  : >"$log"
  deadline=$((SECONDS + wait_s))
  until answers; do
    # A daemon can give up early (say, on a containerd left behind by a
    # killed one, which then goes away): start it again, a few times.
    if ! dockerd_running && [ "$starts" -lt 3 ]; then
      start_dockerd
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "docker.sh: dockerd did not answer within ${wait_s}s; the end of $log:" >&2
      tail -n 30 "$log" >&2 || true
      exit 1
    fi
    sleep 0.5
  done
fi

$sudo docker version
