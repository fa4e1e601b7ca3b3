#!/usr/bin/env bash
# A one-node SLURM cluster on this machine (slurmctld + slurmd + munge), for running
# `hydra/launcher=slurm` sweeps for real (tests/test_slurm.py runs when `sbatch` is found).
#
#   sudo scripts/local_slurm.sh install   # apt-get install slurm-wlm munge, if missing
#   sudo scripts/local_slurm.sh start     # write /etc/slurm/slurm.conf for this node, start
#   scripts/local_slurm.sh status         # sinfo
#   sudo scripts/local_slurm.sh stop
#
# The node offers this machine's cores and memory in one partition, `local` (the default),
# with no GPUs and no accounting; jobs run as the user who submits them. SLURMD_CPUS=1
# (a taskset list) starts slurmd, and so every job, on those cores only.
set -euo pipefail

CONF_DIR=/etc/slurm
STATE_DIR=/var/spool/slurmctld
NODE=$(hostname -s)

install() {
    if command -v sbatch >/dev/null && command -v slurmctld >/dev/null; then
        echo "slurm is installed: $(command -v sbatch)"
        return
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q slurm-wlm munge
}

write_conf() {
    local cpus mem_mb
    cpus=$(nproc)
    mem_mb=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 1024 ))
    mkdir -p "$CONF_DIR" "$STATE_DIR" /var/spool/slurmd /var/log/slurm
    cat > "$CONF_DIR/slurm.conf" <<CONF
ClusterName=rnnlab-local
SlurmctldHost=$NODE
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
SchedulerType=sched/backfill
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmdSpoolDir=/var/spool/slurmd
StateSaveLocation=$STATE_DIR
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
NodeName=$NODE CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=local Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
CONF
    printf 'CgroupPlugin=cgroup/v1\nConstrainCores=no\n' > "$CONF_DIR/cgroup.conf"
}

start() {
    install
    write_conf
    if [ ! -s /etc/munge/munge.key ]; then
        mkdir -p /etc/munge
        dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
        chown munge:munge /etc/munge/munge.key 2>/dev/null || true
        chmod 400 /etc/munge/munge.key
    fi
    mkdir -p /run/munge && chown munge:munge /run/munge 2>/dev/null || true
    pgrep -x munged >/dev/null || su -s /bin/sh munge -c munged 2>/dev/null || munged --force
    pgrep -x slurmctld >/dev/null || slurmctld
    if ! pgrep -x slurmd >/dev/null; then
        if [ -n "${SLURMD_CPUS:-}" ]; then taskset -c "$SLURMD_CPUS" slurmd; else slurmd; fi
    fi
    for _ in $(seq 30); do
        if sinfo -h -o '%T' 2>/dev/null | grep -qE 'idle|mixed|alloc'; then
            sinfo
            return
        fi
        sleep 1
    done
    echo "slurm did not come up; see /var/log/slurm/" >&2
    exit 1
}

stop() {
    for daemon in slurmd slurmctld munged; do
        if pid=$(pgrep -x "$daemon"); then kill $pid; fi
    done
}

case "${1:-}" in
    install) install ;;
    start) start ;;
    stop) stop ;;
    status) sinfo ;;
    *) echo "usage: $0 install|start|stop|status" >&2; exit 2 ;;
esac
