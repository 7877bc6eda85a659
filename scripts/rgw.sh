#!/usr/bin/env bash
# MedRelay's throwaway S3 server: one Ceph mon + one OSD + one radosgw (Pacific 16.2, Debian 12)
# on loopback, no auth between daemons, everything (conf, data, logs, sockets, pids) inside DIR.
# Adapted from /work/shared/tools/start-rgw.sh so the project does not need ../shared at run time.
#
#   scripts/rgw.sh start DIR      start all three; prints one JSON line (endpoint, keys, pids)
#   scripts/rgw.sh stop DIR       stop all daemons whose pid is in DIR/pid.*, wait for them
#   scripts/rgw.sh stop-rgw DIR   stop only radosgw (fault tests: the store goes away, RADOS stays)
#   scripts/rgw.sh start-rgw DIR  start radosgw again on the same port, return when it answers
#
# Env for start: RGW_PORT, MON_PORT (default: free loopback ports), RGW_STORE=memstore|bluestore,
# RGW_OWNER_PID: stop everything once that process is gone (a killed test runner leaves nothing).
# Needs: apt-get install -y --no-install-recommends radosgw ceph-mon ceph-osd
set -euo pipefail

AK=MEDRELAYTESTKEY00001
SK=medrelaytestsecret000000000000000000000001
# memstore is the default. Measured on this 2-core box: start ~1.5 s against ~5.2 s for bluestore
# (the shared recipe took 12 s / 19 s before the paxos settings below), and 200 MB multipart
# objects round-trip intact on both. Data lives in RAM and dies with the OSD, which is what a
# test store should do. RGW_STORE=bluestore (20 GB sparse file in DIR) for benches that need disk.
STORE=${RGW_STORE:-memstore}

die() { echo "rgw.sh: $*" >&2; exit 1; }
usage() { die "usage: $0 start|stop|stop-rgw|start-rgw DIR"; }

free_port() {
  /usr/bin/python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'
}

# A zombie still answers kill -0; if nobody reaps orphans here it must count as gone.
running() {
  local _pid _comm state
  kill -0 "$1" 2>/dev/null || return 1
  read -r _pid _comm state _ <"/proc/$1/stat" 2>/dev/null || return 1
  [ "$state" != Z ]
}
alive() { [ -f "$1" ] && running "$(cat "$1")"; }

# SIGKILL, then wait until the pid is gone: callers reuse the port or delete DIR right after.
# A clean SIGTERM costs ~2 s per daemon and buys nothing for a throwaway store; for radosgw a
# kill is also the more honest "store went down" for fault tests.
kill_pidfiles() {
  local f pids=() pid i
  for f in "$@"; do [ -f "$f" ] && pids+=("$(cat "$f")"); done
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for i in $(seq 1 100); do running "$pid" || break; sleep 0.05; done
    if running "$pid"; then echo "rgw.sh: pid $pid survived SIGKILL" >&2; fi
  done
  rm -f "$@"
}

stop_daemons() { kill_pidfiles "$D/pid.rgw" "$D/pid.osd" "$D/pid.mon"; }
stop_all() { kill_pidfiles "$D/pid.watch"; stop_daemons; }

watch_owner() {
  local owner=$1
  while running "$owner"; do sleep 1; done
  echo "rgw.sh: owner $owner is gone, stopping the daemons" >&2
  stop_daemons
  rm -f "$D/pid.watch"
}

log_tail() {
  local f
  for f in "$D"/log/*; do
    [ -s "$f" ] || continue
    echo "----- $f (last 15 lines)" >&2
    tail -n 15 "$f" >&2
  done
}

rgw_port() { sed -n 's/^rgw frontends = beast endpoint=127\.0\.0\.1:\([0-9]*\)$/\1/p' "$D/ceph.conf"; }

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Fail in seconds, with logs, instead of letting the next client call hang on a dead daemon.
wait_listening() {
  local pidfile=$1 port=$2 i
  for i in $(seq 1 240); do
    alive "$pidfile" || return 1
    listening "$port" && return 0
    sleep 0.25
  done
  return 1
}

# Any HTTP status means beast is serving; curl fails only when nothing listens.
wait_rgw() {
  local port=$1
  wait_listening "$D/pid.rgw" "$port" || return 1
  curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$port/"
}

launch_rgw() {
  nohup radosgw -c "$D/ceph.conf" -n client.rgw.a -f </dev/null >>"$D/log/rgw.out" 2>&1 &
  echo $! >"$D/pid.rgw"
  disown  # no "Killed" job notices on stderr when stop_all runs in this same shell
}

write_conf() {
  local fsid=$1 monport=$2 port=$3 osdconf
  if [ "$STORE" = memstore ]; then
    # Only an accounting limit (nothing is preallocated); past the full ratio RADOS blocks writes,
    # so leave room for a few GB of bench objects plus garbage not yet collected.
    osdconf="osd objectstore = memstore
memstore device bytes = 12884901888"
  else
    osdconf="osd objectstore = bluestore
bluestore block create = true
bluestore block size = 21474836480
bluestore fsck on mount = false
osd memory target = 1073741824"
  fi
  cat >"$D/ceph.conf" <<EOF
[global]
fsid = $fsid
mon host = v1:127.0.0.1:$monport
public network = 127.0.0.0/8
auth cluster required = none
auth service required = none
auth client required = none
osd pool default size = 1
osd pool default min size = 1
osd crush chooseleaf type = 0
mon allow pool size one = true
mon warn on pool no redundancy = false
mon data avail warn = 2
mon data avail crit = 1
osd pool default pg autoscale mode = off
osd pool default pg num = 8
osd pool default pgp num = 8
mon max pg per osd = 1000
ms bind ipv6 = false
auth allow insecure global id reclaim = true
ms mon client mode = crc
ms cluster mode = crc
ms service mode = crc
ms client mode = crc
run dir = $D/run
log file = $D/log/\$name.log
admin socket = $D/run/\$name.asok
# Quiet and fast: no per-request or per-op logging (errors still reach the logs).
debug ms = 0/0
debug rgw = 0/0
debug mon = 0/0
debug paxos = 0/0
debug osd = 0/0
debug bluestore = 0/0
debug bluefs = 0/0
debug bdev = 0/0
debug rocksdb = 0/0
debug monc = 0/0
debug auth = 0/0
debug objecter = 0/0
debug rados = 0/0
[mon]
mon data = $D/mon/\$name
# A one-mon cluster has nobody to batch with: propose map changes at once. Each pool RGW creates
# costs one proposal, so this cuts start-up and the first bucket's latency by seconds.
paxos propose interval = 0.01
paxos min wait = 0.001
[osd]
osd data = $D/osd/\$name
# Pacific's OSD sometimes sends its start-up CRUSH commands before its MonClient knows the fsid;
# the mon refuses them (see retry) and the OSD hung in init for ever. start() places it in CRUSH.
osd crush update on start = false
osd class update on start = false
$osdconf
[client.rgw.a]
rgw data = $D/rgw
rgw frontends = beast endpoint=127.0.0.1:$port
rgw crypt require ssl = false
rgw enable usage log = false
rgw enable ops log = false
# Deleted, overwritten and aborted-upload data is reclaimed after a minute instead of two hours,
# so long bench runs on memstore do not fill RAM.
rgw gc obj min wait = 60
rgw gc processor period = 60
EOF
}

# Pacific clients now and then send their first mon command before they know the fsid; the mon
# answers EPERM "wrong fsid" (mon.a.log: "handle_command on fsid 0000...") and nothing happens,
# so trying again is safe. Seen twice in ~70 starts on this box.
retry() {
  local i
  for i in 1 2 3 4 5; do
    "$@" && return 0
    daemons_alive || return 1
    echo "rgw.sh: attempt $i of '$*' failed, retrying" >>"$D/log/setup.out"
    sleep 0.2
  done
  return 1
}

daemons_alive() {
  local d
  for d in mon osd; do
    if [ -f "$D/pid.$d" ] && ! alive "$D/pid.$d"; then echo "rgw.sh: ceph-$d died" >&2; return 1; fi
  done
}

# Clients wait for a dead mon or OSD until their timeout; a dead daemon should fail the start now.
guarded() {
  "$@" &
  local pid=$!
  while running "$pid"; do
    if ! daemons_alive; then
      kill "$pid" 2>/dev/null || true
      wait "$pid" || true
      return 1
    fi
    sleep 0.02
  done
  wait "$pid"
}

start_mon() {
  local fsid=$1 monport=$2
  monmaptool --create --addv a "[v1:127.0.0.1:$monport]" --fsid "$fsid" "$D/monmap" \
    --enable-all-features >>"$D/log/setup.out" 2>&1
  ceph-mon -c "$D/ceph.conf" --mkfs -i a --monmap "$D/monmap" >>"$D/log/setup.out" 2>&1
  nohup ceph-mon -c "$D/ceph.conf" -i a -f </dev/null >>"$D/log/mon.out" 2>&1 &
  echo $! >"$D/pid.mon"
  disown
  wait_listening "$D/pid.mon" "$monport" || die "ceph-mon did not listen on 127.0.0.1:$monport"
}

ceph_cli() { guarded timeout 30 ceph -c "$D/ceph.conf" "$@" 2>>"$D/log/setup.out"; }

start_osd() {
  local uuid id
  uuid=$(cat /proc/sys/kernel/random/uuid)
  id=$(retry ceph_cli osd new "$uuid")  # same uuid again returns the same id
  retry ceph_cli osd crush add "osd.$id" 1.0 root=default host=localhost >/dev/null
  mkdir -p "$D/osd/osd.$id"
  ceph-osd -c "$D/ceph.conf" -i "$id" --mkfs --osd-uuid "$uuid" >>"$D/log/setup.out" 2>&1
  nohup ceph-osd -c "$D/ceph.conf" -i "$id" -f </dev/null >>"$D/log/osd.out" 2>&1 &
  echo $! >"$D/pid.osd"
  disown
}

rgw_admin() { guarded timeout 60 radosgw-admin -c "$D/ceph.conf" -n client.rgw.a "$@" >/dev/null 2>>"$D/log/setup.out"; }

# Also creates the zone and its pools, so it waits for the OSD; every step can run twice.
setup_rgw() {
  rgw_admin user info --uid=medrelay ||
    rgw_admin user create --uid=medrelay --display-name=medrelay --access-key=$AK --secret=$SK || return 1
  # The app may ask for STANDARD_IA; the placement must exist before radosgw starts.
  rgw_admin zonegroup placement add --rgw-zonegroup default --placement-id default-placement \
    --storage-class STANDARD_IA || return 1
  rgw_admin zone placement add --rgw-zone default --placement-id default-placement \
    --storage-class STANDARD_IA --data-pool default.rgw.standard-ia.data
}

start() {
  [ -e "$D/ceph.conf" ] && die "$D already holds a cluster; stop it and use a fresh DIR"
  [ "$STORE" = memstore ] || [ "$STORE" = bluestore ] || die "RGW_STORE must be memstore or bluestore"
  mkdir -p "$D"/{run,log,mon,osd,rgw}
  local port=${RGW_PORT:-$(free_port)} monport=${MON_PORT:-$(free_port)}
  [ "$port" != "$monport" ] || monport=$(free_port)
  # Otherwise the readiness checks below would be answered by whoever holds the port.
  listening "$port" && die "port $port (RGW_PORT) is already in use"
  listening "$monport" && die "port $monport (MON_PORT) is already in use"
  # From here any failure must not leave daemons behind or fail silently.
  trap 'rc=$?; if [ $rc -ne 0 ]; then echo "rgw.sh: start failed (exit $rc) in $D" >&2; log_tail; stop_all; fi' EXIT

  local fsid
  fsid=$(cat /proc/sys/kernel/random/uuid)
  write_conf "$fsid" "$monport" "$port"
  start_mon "$fsid" "$monport"
  start_osd
  retry setup_rgw || die "radosgw-admin could not create the user and placement"
  launch_rgw
  wait_rgw "$port" || die "radosgw did not answer on 127.0.0.1:$port"
  if [ -n "${RGW_OWNER_PID:-}" ]; then
    nohup bash "$0" watch "$D" "$RGW_OWNER_PID" </dev/null >>"$D/log/watch.out" 2>&1 &
    echo $! >"$D/pid.watch"
    disown
  fi
  trap - EXIT
  printf '{"endpoint":"http://127.0.0.1:%s","accessKeyId":"%s","secretAccessKey":"%s","region":"us-east-1","pids":[%s,%s,%s]}\n' \
    "$port" "$AK" "$SK" "$(cat "$D/pid.mon")" "$(cat "$D/pid.osd")" "$(cat "$D/pid.rgw")"
}

start_rgw() {
  [ -f "$D/ceph.conf" ] || die "no cluster in $D"
  alive "$D/pid.rgw" && die "radosgw is already running in $D"
  local port
  port=$(rgw_port)
  listening "$port" && die "port $port is taken; radosgw cannot come back on it"
  launch_rgw
  wait_rgw "$port" || { log_tail; kill_pidfiles "$D/pid.rgw"; die "radosgw did not come back on port $port"; }
}

[ $# -ge 2 ] || usage
D=$(realpath -m "$2")
case $1 in
  start) start ;;
  watch) watch_owner "${3:?owner pid}" ;;
  stop) stop_all ;;
  stop-rgw) kill_pidfiles "$D/pid.rgw" ;;
  start-rgw) start_rgw ;;
  *) usage ;;
esac
