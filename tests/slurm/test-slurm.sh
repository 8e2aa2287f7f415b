#!/bin/sh
# A real single-node Slurm on this machine (Debian's slurm-wlm and munge): slurmctld and slurmd
# on localhost with their own munge socket, ports, state and configuration in a temporary
# folder (ProctrackType=proctrack/linuxproc, TaskPlugin=task/none, no cgroups, no accounting),
# so nothing of the machine's own Slurm or munge is touched. scripts/slurm/submit.sh runs a
# 4-task array over a small generated archive and the merge job; the merged database must
# equal a single-machine run row for row and verify. Slurm is shut down at the end. TAP.
# Needs root (the daemons run as root here); skipped otherwise.
set -u
PCBDIFF=${PCBDIFF:-build/pcbdiff}
PCBDIFF=$(cd "$(dirname "$PCBDIFF")" && pwd)/$(basename "$PCBDIFF")
SRCDIR=${SRCDIR:-.}
SRCDIR=$(cd "$SRCDIR" && pwd)
SYNTH=$(dirname "$PCBDIFF")/tools/synthboard

if [ "$(id -u)" != 0 ]; then
    echo "1..0 # SKIP the Slurm test runs its daemons as root"
    exit 0
fi
for tool in slurmctld slurmd munged sbatch squeue sinfo scontrol; do
    if ! command -v "$tool" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$tool" ]; then
        echo "Bail out! $tool missing: run scripts/install-deps.sh (slurm-wlm, munge)"
        exit 1
    fi
done
PATH=$PATH:/usr/sbin
echo "1..4"

T=$(mktemp -d /tmp/pcbdiff-slurm-XXXXXX)
chmod 755 "$T"
munge_pid="" ctld_pid="" slurmd_pid=""
cleanup() {
    [ -n "$ctld_pid" ] && SLURM_CONF=$T/slurm.conf scontrol shutdown >/dev/null 2>&1
    for p in $slurmd_pid $ctld_pid $munge_pid; do
        i=0
        while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do
            sleep 0.1
            i=$((i + 1))
        done
        kill -9 "$p" 2>/dev/null
    done
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
fail() {
    echo "not ok $1"
    for f in "$T"/log/*; do
        echo "# ---- $f"
        tail -20 "$f" | sed 's/^/# /'
    done
    exit 1
}

# free TCP ports for this cluster (the machine may run its own Slurm on 6817/6818)
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
ctld_port=$(port)
slurmd_port=$(port)
node=$(hostname -s)
mkdir -p "$T/log" "$T/state" "$T/spool" "$T/munge" "$T/archive/day1" "$T/archive/day2" "$T/board"
chmod 700 "$T/munge"

# munge with its own socket and the machine's key (a fresh one when the package made none)
key=/etc/munge/munge.key
if [ ! -r "$key" ]; then
    dd if=/dev/urandom of="$T/munge/munge.key" bs=1024 count=1 2>/dev/null
    chmod 400 "$T/munge/munge.key"
    key=$T/munge/munge.key
fi
munged --force --socket="$T/munge/munge.socket" --key-file="$key" \
    --pid-file="$T/munge/munged.pid" --log-file="$T/log/munged.log" \
    --seed-file="$T/munge/munged.seed" || fail "1 - munged started"
munge_pid=$(cat "$T/munge/munged.pid")

cat >"$T/slurm.conf" <<CONF
ClusterName=pcbdifftest
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$T/munge/munge.socket
CredType=cred/munge
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/log/slurmctld.log
SlurmdLogFile=$T/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=$node NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=test Nodes=$node Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$T/slurm.conf
slurmctld -f "$SLURM_CONF" -i || fail "1 - slurmctld started"
sleep 0.2
ctld_pid=$(cat "$T/slurmctld.pid" 2>/dev/null)
slurmd -f "$SLURM_CONF" || fail "1 - slurmd started"
sleep 0.2
slurmd_pid=$(cat "$T/slurmd.pid" 2>/dev/null)
i=0
until [ "$(sinfo -h -o %T 2>/dev/null)" = "idle" ]; do
    i=$((i + 1))
    [ $i -gt 150 ] && fail "1 - the node is idle within 30 s (sinfo: $(sinfo -h -o %T 2>&1))"
    sleep 0.2
done
echo "ok 1 - slurmctld and slurmd up, node $node idle"

# a small archive: one board, eight photos (two with an implant), one truncated file
"$SYNTH" board --out "$T/board/golden.png" --width-mm 80 --height-mm 60 --px-per-mm 6 \
    --seed 11 --profile "$T/board/board.ini" >/dev/null || fail "2 - synthboard"
for s in 1 2 3 4 5 6 7 8; do
    d=day1
    [ $s -gt 4 ] && d=day2
    extra=""
    [ $((s % 3)) = 0 ] && extra=--implant
    "$SYNTH" photo --golden "$T/board/golden.png" --board-seed 11 --px-per-mm 6 \
        --out "$T/archive/$d/p$s.jpg" --seed "$s" $extra >/dev/null || fail "2 - synthboard"
done
head -c 2000 "$T/archive/day1/p1.jpg" >"$T/archive/day2/cut.jpg"
"$PCBDIFF" batch --board "$T/board" --db "$T/single.sqlite" -q "$T/archive"
[ $? = 2 ] || fail "2 - a single-machine run (exit 2: the truncated photo)"
echo "ok 2 - a single-machine run over 9 photos"

ids=$(PCBDIFF=$PCBDIFF "$SRCDIR/scripts/slurm/submit.sh" 4 "$T/out" --board "$T/board" \
    "$T/archive") || fail "3 - submit.sh"
merge=${ids##* }
i=0
while squeue -h 2>/dev/null | grep -q .; do
    i=$((i + 1))
    [ $i -gt 600 ] && fail "3 - the array and the merge job finish within 120 s"
    sleep 0.2
done
[ -f "$T/out/results.sqlite" ] || fail "3 - the merge job wrote results.sqlite ($ids)"
grep -q "verified, 9 rows" "$T/out/pcbdiff-merge-$merge.log" \
    || fail "3 - the merged database verifies ($(cat "$T/out/pcbdiff-merge-$merge.log"))"
echo "ok 3 - a 4-task array and its merge job ran ($ids)"

rows() { # the rows without what differs from run to run
    "$PCBDIFF" db export --jsonl "$1" | python3 -c '
import json, sys
keys = ("photo_path", "photo_sha256", "board", "verdict", "n_findings", "exit_code", "reason",
        "params_sha256", "findings")
print("\n".join(sorted(json.dumps([json.loads(l)[k] for k in keys]) for l in sys.stdin)))'
}
rows "$T/single.sqlite" >"$T/single.rows"
rows "$T/out/results.sqlite" >"$T/merged.rows"
if [ "$(wc -l <"$T/single.rows")" = 9 ] && cmp -s "$T/single.rows" "$T/merged.rows"; then
    echo "ok 4 - the merged shards equal the single-machine run, row for row"
else
    diff "$T/single.rows" "$T/merged.rows" | sed 's/^/# /'
    fail "4 - the merged shards equal the single-machine run"
fi
