#!/usr/bin/env bash
# A real single-node SLURM cluster (Debian's slurm-wlm 22.05 + munge) for tests, entirely under
# one state folder: its own munged (own socket and key copy), slurmctld and slurmd, free ports.
#   tools/slurm/test-cluster.sh start STATE_DIR   start it; returns once the node is idle
#   tools/slurm/test-cluster.sh stop STATE_DIR    cancel its jobs, stop what start started, rm -r STATE_DIR
# Clients find it with SLURM_CONF=STATE_DIR/slurm.conf. Needs root (slurmd runs jobs as their
# submitter) and `apt-get install slurm-wlm munge` (tools/setup.sh installs both).
set -euo pipefail

usage() { echo "usage: $0 start|stop STATE_DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
action=$1
state=$2
daemons=(slurmd slurmctld munged)   # stop order: the reverse of start

fail() { echo "test-cluster: $*" >&2; exit 1; }

# A TCP port nobody listens on (no connection to it succeeds), below the ephemeral range.
free_port() {
  local port
  for _ in $(seq 1 200); do
    port=$((20000 + RANDOM % 12000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return; fi
  done
  fail "no free TCP port found"
}

show_logs() {
  local log
  for log in "$state"/log/*.log; do
    [ -f "$log" ] || continue
    echo "----- $log" >&2
    tail -n 40 "$log" >&2
  done
}

pid_of() {  # the pid a daemon recorded, if it still runs
  local file="$state/run/$1.pid" pid
  [ -s "$file" ] || return 1
  pid=$(cat "$file")
  kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid"
}

start() {
  [ "$(id -u)" -eq 0 ] || fail "must run as root (slurmd runs jobs as the user who submits them)"
  local missing=()
  for tool in munged slurmctld slurmd sinfo; do command -v "$tool" >/dev/null || missing+=("$tool"); done
  [ ${#missing[@]} -eq 0 ] || fail "not found: ${missing[*]}: apt-get install slurm-wlm munge"
  if [ -e "$state/slurm.conf" ]; then  # a run killed before its stop: end what it left
    echo "test-cluster: stopping the cluster a previous start left in $state"
    stop
  fi

  mkdir -p "$state"/{run,log,spool,ctld}
  chmod 755 "$state"  # clients of other users reach the munge socket through it
  state=$(cd "$state" && pwd)
  local host cpus
  host=$(hostname -s)
  cpus=$(nproc)

  # munged refuses a key others could read; the package's key is owned by the munge user, so the
  # cluster uses a root-owned copy (a fresh key when the package left none).
  if [ -r /etc/munge/munge.key ]; then
    install -m 600 /etc/munge/munge.key "$state/munge.key"
  else
    mungekey --create --keyfile="$state/munge.key" >/dev/null
    chmod 600 "$state/munge.key"
  fi
  # --force: as root, and with the state under /tmp (world-writable, sticky), munged otherwise
  # refuses to start over its directory checks.
  munged --force --socket="$state/run/munge.socket" --key-file="$state/munge.key" \
    --pid-file="$state/run/munged.pid" --log-file="$state/log/munged.log" \
    --seed-file="$state/run/munged.seed" 2>>"$state/log/munged.log" \
    || abort_start "munged did not start"

  local ctld_port slurmd_port
  ctld_port=$(free_port)
  slurmd_port=$(free_port)
  while [ "$slurmd_port" = "$ctld_port" ]; do slurmd_port=$(free_port); done
  cat >"$state/slurm.conf" <<EOF
# Written by tools/slurm/test-cluster.sh: a single-node test cluster, stopped with its 'stop'.
ClusterName=ablatetest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$state/run/munge.socket
CredType=cred/munge
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/spool
SlurmctldPidFile=$state/run/slurmctld.pid
SlurmdPidFile=$state/run/slurmd.pid
SlurmctldLogFile=$state/log/slurmctld.log
SlurmdLogFile=$state/log/slurmd.log
# No cgroups (none in containers; 22.05 has no CgroupPlugin=disabled, so no cgroup.conf either).
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
SchedulerType=sched/backfill
MaxArraySize=100000
MinJobAge=30
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
  export SLURM_CONF="$state/slurm.conf"
  # -i: ignore any state a previous cluster left behind.
  slurmctld -i -f "$SLURM_CONF" || abort_start "slurmctld did not start"
  slurmd -f "$SLURM_CONF" || abort_start "slurmd did not start"

  local deadline=$((SECONDS + 60)) node_state=""
  while [ $SECONDS -lt $deadline ]; do
    node_state=$(sinfo -h -N -n "$host" -o '%T' 2>/dev/null || true)
    [ "$node_state" = idle ] && { echo "test-cluster: node $host idle; SLURM_CONF=$SLURM_CONF"; return; }
    sleep 0.5
  done
  abort_start "node $host not idle after 60 s (state '${node_state:-unknown}'); daemon logs above"
}

abort_start() {  # a start that failed leaves nothing running
  show_logs
  stop_daemons
  fail "$1"
}

stop_daemons() {
  local name pid
  for name in "${daemons[@]}"; do
    pid=$(pid_of "$name") || continue
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
}

stop() {
  [ -d "$state" ] || return 0
  if [ -f "$state/slurm.conf" ] && pid_of slurmctld >/dev/null; then
    # Jobs first, so no job step outlives the cluster.
    export SLURM_CONF="$state/slurm.conf"
    scancel --full --quiet --user=root 2>/dev/null || true
    for _ in $(seq 1 50); do
      [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break
      sleep 0.2
    done
  fi
  stop_daemons
  rm -rf "$state"
}

case "$action" in
  start) start ;;
  stop) stop ;;
  *) usage ;;
esac
