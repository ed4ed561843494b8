#!/usr/bin/env bash
# Ceph benchmark: Backy's ceph-rbd source against rbd itself, on a throwaway cluster (scripts/ceph-cluster).
#
#   bench/ceph-backup.sh [SIZE_MIB]     (default 1024; results in bench/out/ceph/results.tsv)
#   BASELINE=DIR bench/ceph-backup.sh SIZE   also runs every Backy step with DIR/backy-worker (an older build made
#                                    by `scripts/publish DIR`, e.g. of main before a change), interleaved with the
#                                    new one in the same rounds (results as STEP-base), and prints both summaries
#
# Measures, on one image made by make-image.py (30 % holes, 40 % text, 30 % random):
#   rbd-export     rbd export of the snapshot into a pipe (the read limit Backy builds on)
#   file-full      Backy's first backup of the same image as a local file (the CPU floor: hash, compress, write)
#   full           Backy's first backup (full read, hash, compress, write chunks, verify 1 %)
#   full-reread    a full-always backup of unchanged data (full read + hash; every chunk exists)
#   diff-read      rbd export-diff of 1 % changed blocks into a pipe (the time the changed data take to read,
#                  between two snapshots that already exist)
#   snap-diff-read rbd snap create + rbd export-diff of the same: what an incremental backup cannot do without (it
#                  needs a snapshot to read from, and a snapshot create is a monitor commit: ~0.2 s on this cluster,
#                  up to paxos_propose_interval = 1 s more when it follows another OSD-map change); the bench leaves
#                  the cluster's paxos settings at their defaults
#   incremental    a backup after 1 % of the 4 MiB blocks got a 4 KiB write (librbd diff; its own snapshot create)
#   rbd-import     rbd import of the same raw image (the write limit for a restore into Ceph)
#   restore-rbd-new / restore-rbd-existing   backy restore rbd:rbd/rest, into a missing / an existing image
#   changed-rbd    backy restore --changed-only rbd:rbd/rest after 1 % of its blocks got a 4 KiB write
#   restore-file / changed-file   the same for a file (full restore with fsync; changed-only with the file's
#                  page cache dropped first, so that it reads the disk)
#   file-read      dd of that file with direct I/O, page cache dropped: the read limit of changed-file, as
#                  rbd-export is that of changed-rbd (a changed-only restore reads the whole target, so it cannot
#                  take less than that read; 0.4x a full restore needs a target that reads 2.5x faster than it writes)
# Every step runs twice (incremental and snap-diff-read four times; with BASELINE each round runs the new worker,
# then the baseline), and the faster run of each counts (the first one warms the OSD's and the page cache). Beside
# its wall time, results.tsv has that run's CPU seconds (user + system of the command and its children,
# /usr/bin/time): on a shared machine the wall time alone is noise.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
size_mib=${1:-1024}
out=${BENCH_OUT:-$here/out}/ceph
py=/usr/bin/python3
rm -rf "$out"; mkdir -p "$out"
cluster="$out/cluster"

echo "== building backy-worker (Release)"
"$root/scripts/publish" "$out/bin" >/dev/null   # the deployable, ReadyToRun-compiled install
worker="$out/bin/backy-worker"

echo "== starting a cluster"
# memstore keeps everything in RAM: image + one snapshot's copy-on-write + an imported and a restored copy + headroom.
CEPH_STORE_BYTES=$(( (size_mib * 5 + 2048) << 20 )) "$root/scripts/ceph-cluster" start "$cluster"
trap '"$root/scripts/ceph-cluster" stop "$cluster"' EXIT
eval "$("$root/scripts/ceph-cluster" env "$cluster")"

echo "== making a ${size_mib} MiB image"
$py "$here/make-image.py" "$out/image.raw" "$size_mib" 1
rbd import --no-progress "$out/image.raw" rbd/bench
rm -f "$out/image.raw"
rbd snap create --no-progress rbd/bench@base

results="$out/results.tsv"
: > "$results"
# best STEP COMMAND: runs COMMAND ROUNDS times (default 2; after PREPARE, if set), records the faster wall time and its CPU seconds.
# With BASELINE, a COMMAND that runs $worker also runs with the baseline worker, alternating, as STEP-base.
baseline=${BASELINE:+$BASELINE/backy-worker}
best() {
  local step=$1; shift
  local cmd="$*" variants=("$step")
  declare -A b=() bcpu=()
  if [ -n "$baseline" ] && [[ "$cmd" == *"$worker"* ]]; then variants+=("$step-base"); fi
  for _ in $(seq "${ROUNDS:-2}"); do
    for v in "${variants[@]}"; do
      [ -z "${PREPARE:-}" ] || eval "$PREPARE"
      local c=$cmd t0 t1 s cpu
      [ "$v" = "$step" ] || c=${cmd//"$worker"/"$baseline"}
      t0=$(date +%s.%N)
      /usr/bin/time -o "$out/$v.cpu" -f "%U %S" bash -c "$c" >/dev/null 2>"$out/$v.err" || { echo "FAILED: $v"; cat "$out/$v.err"; exit 1; }
      t1=$(date +%s.%N)
      s=$(echo "$t1 - $t0" | bc)
      cpu=$(awk 'END {print $1 + $2}' "$out/$v.cpu")
      if [ -z "${b[$v]:-}" ] || [ "$(echo "$s < ${b[$v]}" | bc)" = 1 ]; then b[$v]=$s; bcpu[$v]=$cpu; fi
    done
  done
  for v in "${variants[@]}"; do
    printf '%s\t%.2f\t%.2f\n' "$v" "${b[$v]}" "${bcpu[$v]}" >> "$results"
    printf '  %-20s %7.2f s  (%.0f MiB/s, %.2f CPU-s)\n' "$v" "${b[$v]}" "$(echo "$size_mib / ${b[$v]}" | bc -l)" "${bcpu[$v]}"
  done
}

job() {  # job NAME EXTRA-CONFIG: a fresh job directory backing up rbd/bench
  rm -rf "$out/$1"; mkdir -p "$out/$1"
  printf 'source:\n  type: ceph-rbd\n  pool: rbd\n  image: bench\n%sschedule:\n  daily: {interval: 1d, keep: 7}\n' "$2" > "$out/$1/config"
}

echo "== timings (best of two)"
best rbd-export "rbd export --no-progress rbd/bench@base - | cat > /dev/null"
rbd export --no-progress rbd/bench@base "$out/image.raw"
filejob() {
  rm -rf "$out/file"; mkdir -p "$out/file"
  printf 'source:\n  type: file\n  filename: %s\nschedule:\n  daily: {interval: 1d, keep: 7}\n' "$out/image.raw" > "$out/file/config"
}
PREPARE=filejob best file-full "$worker -b $out/file backup daily"
rm -rf "$out/file"
PREPARE='job full ""' best full "$worker -b $out/full backup daily"
job reread $'  full-always: true\n'
"$worker" -b "$out/reread" backup daily >/dev/null
best full-reread "$worker -b $out/reread backup daily"

# 1 % of the blocks (at least one) get a 4 KiB write at a random place, through rbd import-diff.
mutate() {  # mutate [IMAGE]
  $py - "$size_mib" <<'PY' | rbd import-diff --no-progress - "${1:-rbd/bench}"
import random, struct, sys
size = int(sys.argv[1]) << 20
blocks = size // (4 << 20)
rnd = random.Random()
out = sys.stdout.buffer
out.write(b"rbd diff v1\n" + b"s" + struct.pack("<Q", size))
for b in sorted(rnd.sample(range(blocks), max(1, -(-blocks // 100)))):  # ceil: 1 % rounded up
    off = b * (4 << 20) + rnd.randrange(0, (4 << 20) - 4096)
    out.write(b"w" + struct.pack("<QQ", off, 4096) + rnd.randbytes(4096))
out.write(b"e")
PY
}
# The changed data alone, read by rbd itself: the floor for the incremental backup.
diffsnaps() { rbd snap rm --no-progress rbd/bench@d1 2>/dev/null || true; rbd snap rm --no-progress rbd/bench@d2 2>/dev/null || true
  rbd snap create --no-progress rbd/bench@d1; mutate; rbd snap create --no-progress rbd/bench@d2; }
PREPARE=diffsnaps best diff-read "rbd export-diff --no-progress --from-snap d1 rbd/bench@d2 - | cat > /dev/null"
# The same with the snapshot create an incremental backup needs (sleep 1: see the incremental below).
snapbefore() { diffsnaps; rbd snap rm --no-progress rbd/bench@d2; sleep 1; }
ROUNDS=4 PREPARE=snapbefore best snap-diff-read "rbd snap create --no-progress rbd/bench@d2 && rbd export-diff --no-progress --from-snap d1 rbd/bench@d2 - | cat > /dev/null"
rbd snap rm --no-progress rbd/bench@d1; rbd snap rm --no-progress rbd/bench@d2
job incr ""
"$worker" -b "$out/incr" backup daily >/dev/null
# Four rounds here and for snap-diff-read: a snapshot create waits for the monitor's next paxos round, 0-1 s
# after its previous commit of anything (OSD and mgr reports included), so single runs differ by up to 1 s.
# sleep 1: a monitor batches OSD-map commits that come within "paxos propose interval" (1 s) of the previous one,
# so a snapshot taken right after the previous run's snapshot removal waits up to 1 s for the batch; a real
# backup is not preceded by another one of the same image within a second.
ROUNDS=4 PREPARE='mutate; sleep 1' best incremental "$worker -b $out/incr backup daily"
grep -q "as a diff from" "$out/incr/backy.log" || { echo "FAILED: the incremental backup did not read a diff"; exit 1; }

echo "== restores"
PREPARE='rbd rm --no-progress rbd/imp 2>/dev/null || true' best rbd-import "rbd import --no-progress $out/image.raw rbd/imp"
rbd rm --no-progress rbd/imp
PREPARE='rbd rm --no-progress rbd/rest 2>/dev/null || true' best restore-rbd-new "$worker -b $out/full restore rbd:rbd/rest"
best restore-rbd-existing "$worker -b $out/full restore rbd:rbd/rest"
PREPARE='mutate rbd/rest' best changed-rbd "$worker -b $out/full restore --changed-only rbd:rbd/rest"
cmp <(rbd export --no-progress rbd/rest -) "$out/image.raw" || { echo "FAILED: rbd/rest differs after the changed-only restore"; exit 1; }
rbd rm --no-progress rbd/rest
pokefile() {  # 1 % of the blocks get a 4 KiB write; then the file's page cache is dropped
  $py - "$1" <<'PY'
import os, random, sys
fd = os.open(sys.argv[1], os.O_RDWR)
size = os.fstat(fd).st_size
blocks = size // (4 << 20)
rnd = random.Random()
for b in rnd.sample(range(blocks), max(1, -(-blocks // 100))):
    os.pwrite(fd, rnd.randbytes(4096), b * (4 << 20) + rnd.randrange(0, (4 << 20) - 4096))
os.fsync(fd)
os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
os.close(fd)
PY
}
best restore-file "$worker -b $out/full restore $out/disk.raw"
# The read limit of a changed-only restore of the file: all of it read once, by direct I/O, page cache dropped.
PREPARE="pokefile $out/disk.raw" best file-read "dd if=$out/disk.raw of=/dev/null bs=4M iflag=direct"
PREPARE="pokefile $out/disk.raw" best changed-file "$worker -b $out/full restore --changed-only $out/disk.raw"
cmp "$out/disk.raw" "$out/image.raw" || { echo "FAILED: the file differs after the changed-only restore"; exit 1; }
rm -f "$out/disk.raw" "$out/image.raw"

echo "== results ($results)"
summary() {  # summary SUFFIX: the ratios of the Backy steps named STEP$SUFFIX ("" or "-base") against the raw limits
  awk -F'\t' -v x="$1" '{t[$1]=$2; c[$1]=$3} END {
  if (x != "") print "-- baseline worker (" x ")";
  printf "full-read (full-always, no new chunks) vs rbd export into a pipe: %.2fx\n", t["full-reread" x]/t["rbd-export"];
  printf "full backup vs the same image backed up from a file: %.2fx\n", t["full" x]/t["file-full" x];
  printf "incremental (1%% blocks changed) vs reading its changed data (rbd export-diff): %.2f s vs %.2f s (+%.2f s)\n", t["incremental" x], t["diff-read"], t["incremental" x]-t["diff-read"];
  printf "incremental vs rbd snap create + rbd export-diff: %.2f s vs %.2f s (%+.2f s)\n", t["incremental" x], t["snap-diff-read"], t["incremental" x]-t["snap-diff-read"];
  printf "incremental (1%% blocks changed) vs full backup: %.2f s vs %.2f s (%.1f%%)\n", t["incremental" x], t["full" x], 100*t["incremental" x]/t["full" x];
  printf "incremental CPU vs rbd export-diff CPU (with snap create): %.2f vs %.2f (%.2f) CPU-s\n", c["incremental" x], c["diff-read"], c["snap-diff-read"];
  printf "restore into a new rbd image vs rbd import: %.2fx (existing image: %.2fx)\n", t["restore-rbd-new" x]/t["rbd-import"], t["restore-rbd-existing" x]/t["rbd-import"];
  printf "restore CPU, new image / existing image / rbd import: %.2f / %.2f / %.2f CPU-s\n", c["restore-rbd-new" x], c["restore-rbd-existing" x], c["rbd-import"];
  printf "changed-only restore (1%% blocks changed) vs full restore: rbd %.2fx, file %.2fx\n", t["changed-rbd" x]/t["restore-rbd-existing" x], t["changed-file" x]/t["restore-file" x];
  printf "changed-only restore vs reading the whole target: rbd %.2f s vs rbd export %.2f s (%.2fx), file %.2f s vs dd %.2f s (%.2fx)\n", t["changed-rbd" x], t["rbd-export"], t["changed-rbd" x]/t["rbd-export"], t["changed-file" x], t["file-read"], t["changed-file" x]/t["file-read"] }' "$results"
}
{ summary ""; if [ -n "$baseline" ]; then summary -base; fi; } | tee -a "$out/summary.txt"
