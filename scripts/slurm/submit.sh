#!/bin/sh
# Spreads a pcbdiff batch over a Slurm cluster: a job array of N shards, then a merge job that
# starts when every shard succeeded.
#   scripts/slurm/submit.sh N OUTDIR [batch options and paths...]
#   e.g. scripts/slurm/submit.sh 16 /shared/results --board /shared/boards/x1 /shared/photos
# OUTDIR and every path must be on storage all nodes see. PCBDIFF (default: the pcbdiff on
# PATH) is the program the nodes run; SBATCH_EXTRA adds sbatch options (partition, time).
# Prints the two job ids; the merged database is OUTDIR/results.sqlite.
set -eu
if [ $# -lt 3 ]; then
    echo "usage: $0 N OUTDIR [pcbdiff batch options] PATH..." >&2
    exit 2
fi
n=$1
out=$2
shift 2
case $n in '' | *[!0-9]* | 0)
    echo "$0: N must be a whole number >= 1, not '$n'" >&2
    exit 2
    ;;
esac
here=$(cd "$(dirname "$0")" && pwd)
pcbdiff=${PCBDIFF:-$(command -v pcbdiff || true)}
[ -n "$pcbdiff" ] || { echo "$0: no pcbdiff on PATH: set PCBDIFF" >&2; exit 2; }
mkdir -p "$out"
# shellcheck disable=SC2086
array=$(sbatch --parsable ${SBATCH_EXTRA:-} --array=1-"$n" --chdir="$out" \
    "$here/pcbdiff-batch.sbatch" "$out" "$pcbdiff" "$@")
array=${array%%;*}
# shellcheck disable=SC2086
merge=$(sbatch --parsable ${SBATCH_EXTRA:-} --dependency=afterok:"$array" --chdir="$out" \
    "$here/pcbdiff-merge.sbatch" "$out" "$pcbdiff")
merge=${merge%%;*}
echo "array $array merge $merge"
