#!/usr/bin/env bash
# End-to-end check of scenarios/slurm/sweep.sbatch on a real (one-node) Slurm cluster:
# installs slurm-wlm and munge from the distribution, starts munged, slurmctld and slurmd
# (no systemd needed), submits the array sweep of scenarios/capacity.toml in 4 shards with
# its merge step, waits for it (with a timeout), and checks that the merged results equal
# a local `drmsim sweep` of the same file. Stops every daemon it started.
#
# Usage (from the repository root, as root, after `cargo build --release -p scenarios`):
#   .ci/slurm-e2e.sh [WORK_DIR]
# Environment: SLURM_E2E_TIMEOUT (seconds to wait for the jobs, default 1200).
set -euo pipefail
cd "$(dirname "$0")/.."

ROOT=$PWD
WORK=${1:-$ROOT/target/slurm-e2e}
TIMEOUT=${SLURM_E2E_TIMEOUT:-1200}
DRMSIM=${DRMSIM:-$ROOT/target/release/drmsim}
FILE=scenarios/capacity.toml

[[ -x "$DRMSIM" ]] || { echo "slurm-e2e: build drmsim first ($DRMSIM)" >&2; exit 2; }

echo "== slurm-e2e: installing slurm-wlm and munge"
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq slurm-wlm munge >/dev/null
fi

rm -rf "$WORK"
mkdir -p "$WORK"/{spool/ctld,spool/d,run,log}
PIDS=()
cleanup() {
    # Stop only what this script started, newest first.
    for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
        kill "${PIDS[$i]}" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
}
trap cleanup EXIT

echo "== slurm-e2e: munge"
if ! [[ -S /run/munge/munge.socket.2 ]] || ! munge -n >/dev/null 2>&1; then
    install -d -o munge -g munge -m 0755 /run/munge
    install -d -o munge -g munge -m 0700 /etc/munge /var/lib/munge /var/log/munge
    if ! [[ -s /etc/munge/munge.key ]]; then
        if command -v mungekey >/dev/null; then
            mungekey --create --keyfile=/etc/munge/munge.key
        else
            dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
        fi
        chown munge:munge /etc/munge/munge.key
        chmod 0400 /etc/munge/munge.key
    fi
    setpriv --reuid=munge --regid=munge --init-groups munged -F >"$WORK/log/munged.log" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 50); do munge -n >/dev/null 2>&1 && break; sleep 0.2; done
    munge -n >/dev/null
fi

echo "== slurm-e2e: one-node cluster"
HOST=$(hostname -s)
CPUS=$(nproc)
FREE_MB=$(awk '/MemAvailable/ {print int($2 / 1024)}' /proc/meminfo)
MEM_MB=$((FREE_MB * 8 / 10))
export SLURM_CONF=$WORK/slurm.conf
cat >"$SLURM_CONF" <<CONF
ClusterName=drmsim-ci
SlurmctldHost=$HOST
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$WORK/spool/ctld
SlurmdSpoolDir=$WORK/spool/d
SlurmctldPidFile=$WORK/run/slurmctld.pid
SlurmdPidFile=$WORK/run/slurmd.pid
SlurmctldLogFile=$WORK/log/slurmctld.log
SlurmdLogFile=$WORK/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
MpiDefault=none
ReturnToService=2
NodeName=$HOST CPUs=$CPUS RealMemory=$MEM_MB State=UNKNOWN
PartitionName=ci Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
CONF
slurmctld -D -f "$SLURM_CONF" >"$WORK/log/slurmctld.out" 2>&1 &
PIDS+=($!)
slurmd -D -f "$SLURM_CONF" >"$WORK/log/slurmd.out" 2>&1 &
PIDS+=($!)
ready=""
for _ in $(seq 120); do
    if sinfo -h -N -o '%T' 2>/dev/null | grep -qE '^(idle|mixed)'; then ready=1; break; fi
    sleep 0.5
done
if [[ -z "$ready" ]]; then
    echo "slurm-e2e: the node never became idle" >&2
    sinfo -N -l || true
    tail -n 20 "$WORK"/log/* >&2 || true
    exit 1
fi
sinfo -N

echo "== slurm-e2e: submit the 4-shard array sweep and its merge"
# One CPU and a modest memory share per task, so the node runs several shards at once.
export DRMSIM DRMSIM_SBATCH_CPUS=1 DRMSIM_SBATCH_MEM=$((MEM_MB / CPUS))M
scenarios/slurm/sweep.sbatch "$FILE" "$WORK/sweep" 4

# Waits for the array and merge jobs recorded in DIR/jobs, then checks the merge wrote
# its results.
wait_for_sweep() {
    local ARRAY_ID MERGE_ID start
    IFS=, read -r ARRAY_ID MERGE_ID <"$WORK/sweep/jobs"
    start=$SECONDS
    while [[ -n "$(squeue -h -j "$ARRAY_ID,$MERGE_ID" 2>/dev/null)" ]]; do
        if ((SECONDS - start > TIMEOUT)); then
            echo "slurm-e2e: jobs still queued or running after ${TIMEOUT}s" >&2
            squeue || true
            scancel "$ARRAY_ID" "$MERGE_ID" || true
            exit 1
        fi
        sleep 2
    done
    echo "slurm jobs done after $((SECONDS - start)) s"
    for log in "$WORK"/sweep/logs/*.out; do
        echo "-- $log"; tail -n 8 "$log"
    done
    [[ -f "$WORK/sweep/merged/results.csv" ]] || {
        echo "slurm-e2e: no merged results (a shard or the merge failed; logs above)" >&2
        exit 1
    }
}
wait_for_sweep

echo "== slurm-e2e: local sweep of the same file"
"$DRMSIM" sweep "$FILE" --out "$WORK/local" --no-charts --no-progress

echo "== slurm-e2e: compare"
python3 .ci/compare_results.py "$WORK/local/results.csv" "$WORK/sweep/merged/results.csv"
python3 .ci/compare_results.py "$WORK/local/results_long.csv" "$WORK/sweep/merged/results_long.csv"

echo "== slurm-e2e: resubmit with one more seed (3 instead of 2): only the new runs execute"
# 48 points become 72; the 48 complete runs are reused (in place, or copied from the
# merge and the other shards when a point changed shard), 24 run.
rm -f "$WORK"/sweep/logs/*.out
DRMSIM_SWEEP_ARGS="--seeds 3" scenarios/slurm/sweep.sbatch "$FILE" "$WORK/sweep" 4
wait_for_sweep
ran=$(cat "$WORK"/sweep/logs/shard-*.out | awk '$1 == "runs" {sum += $2} END {print sum + 0}')
if [[ "$ran" != 24 ]]; then
    echo "slurm-e2e: the shards ran $ran runs after adding a seed, expected 24" >&2
    exit 1
fi
"$DRMSIM" sweep "$FILE" --out "$WORK/local" --seeds 3 --no-charts --no-progress
python3 .ci/compare_results.py "$WORK/local/results.csv" "$WORK/sweep/merged/results.csv"
echo "== slurm-e2e OK"
