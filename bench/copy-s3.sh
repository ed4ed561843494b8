#!/usr/bin/env bash
# Off-site copy benchmark: `backy copy` and `restore --from` against rclone on the same radosgw, one run.
#
#   bench/copy-s3.sh [SIZE_MIB] [ROUNDS]   (defaults 512, 3; results in bench/out/copy/results.tsv;
#                                          BACKY_BIN=DIR uses that scripts/publish output instead of building;
#                                          BACKY_BASE_BIN=DIR also runs that build's copy and restore in every
#                                          round, e.g. main before a change, for before/after in one run)
#
# On a throwaway single-node Ceph with radosgw (scripts/ceph-cluster start + rgw, memstore), an image from
# make-image.py (30 % holes, 40 % text, 30 % random), one local backup, then ROUNDS interleaved rounds of:
#   rclone-copy     rclone copy of the job directory into a fresh bucket (the tool an operator would use instead)
#   backy-copy      backy copy of the same job into another fresh bucket (full copy, local record removed)
#   rclone-cat      rclone cat of every chunk object backy copy stored, to /dev/null (the download limit)
#   restore-from    backy restore --from s3://... - into /dev/null (streams every block, holes as zeros)
#   base-copy, base-restore-from   the same with BACKY_BASE_BIN's build (when set)
#   (the round's buckets are removed again: memstore keeps everything in memory)
# and once at the end backy-copy-inc: backy copy after 400 random 4 KiB writes and a backup (incremental).
# Every step records wall, user and system seconds (/usr/bin/time) and the radosgw's CPU seconds during the step;
# the summary gives the median over the rounds of each round's ratio, so that the machine's load (shared, noisy)
# hits both sides of a ratio alike.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
size_mib=${1:-512}
rounds=${2:-3}
out=${BENCH_OUT:-$here/out}/copy
py=/usr/bin/python3
rm -rf "$out"; mkdir -p "$out"
cluster="$out/cluster"

if [ -n "${BACKY_BIN:-}" ]; then backy=$BACKY_BIN/backy # an existing scripts/publish output
else
  echo "== building backy (Release)"
  "$root/scripts/publish" "$out/bin" >/dev/null
  backy="$out/bin/backy"
fi

echo "== starting a cluster with radosgw"
CEPH_STORE_BYTES=$(( (size_mib * 4 + 2048) << 20 )) "$root/scripts/ceph-cluster" start "$cluster"
trap '"$root/scripts/ceph-cluster" stop "$cluster"' EXIT
"$root/scripts/ceph-cluster" rgw "$cluster"
set -a; . "$cluster/rgw.env"; set +a
export AWS_ENDPOINT_URL=$S3_ENDPOINT
# rclone's S3 backend fails on a custom CA bundle variable some environments set; plain http here.
unset AWS_CA_BUNDLE
rc="$out/rclone.conf"
printf '[rgw]\ntype = s3\nprovider = Ceph\naccess_key_id = %s\nsecret_access_key = %s\nendpoint = %s\nforce_path_style = true\n' \
  "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" "$S3_ENDPOINT" >"$rc"
rclone() { command rclone --config "$rc" "$@"; }
echo "== making a ${size_mib} MiB image and backing it up"
job="$out/job"; mkdir -p "$job"
$py "$here/make-image.py" "$out/image.raw" "$size_mib" 1
config() { # config BUCKET: the job's copy target is that bucket
  cat >"$job/config" <<CFG
source: {type: file, filename: $out/image.raw}
schedule:
  daily: {interval: 1d, keep: 7}
copies:
  offsite: {type: s3, endpoint: $S3_ENDPOINT, bucket: $1, region: default, access-key: $AWS_ACCESS_KEY_ID, secret-key: $AWS_SECRET_ACCESS_KEY}
CFG
}
config bench-backy-1
"$backy" -b "$job" backup daily 2>/dev/null
du -sm "$job" | awk '{print "job directory: " $1 " MiB"}'

results="$out/results.tsv"
printf 'step\tround\twall\tuser\tsys\trgw_cpu\n' >"$results"
rgw_pid=$(pgrep -f "radosgw.*$cluster" | head -1)
rgw_cpu() { awk '{print ($14 + $15) / 100}' "/proc/$rgw_pid/stat"; } # utime + stime in seconds (USER_HZ 100)
step() { # step NAME ROUND COMMAND...: wall, user, sys seconds and the radosgw's CPU seconds into results
  local name=$1 round=$2; shift 2
  local r0 r1
  r0=$(rgw_cpu)
  [ "$1" = command ] && shift # /usr/bin/time runs the program itself, never a shell function
  /usr/bin/time -f "%e\t%U\t%S" -o "$out/time" "$@" >/dev/null 2>"$out/$name-$round.err"
  r1=$(rgw_cpu)
  printf '%s\t%s\t%s\t%s\n' "$name" "$round" "$(cat "$out/time")" "$(echo "$r1 - $r0" | bc)" | tee -a "$results"
}
for round in $(seq 1 "$rounds"); do
  rclone mkdir "rgw:bench-rclone-$round"
  rclone mkdir "rgw:bench-backy-$round"
  step rclone-copy "$round" command rclone --config "$rc" copy --transfers 8 "$job" "rgw:bench-rclone-$round/job"
  if [ -n "${BACKY_BASE_BIN:-}" ]; then
    rclone mkdir "rgw:bench-base-$round"
    config "bench-base-$round"
    rm -rf "$job/copies"
    step base-copy "$round" "$BACKY_BASE_BIN/backy" -b "$job" copy
  fi
  config "bench-backy-$round"
  rm -rf "$job/copies"
  step backy-copy "$round" "$backy" -b "$job" copy
  step rclone-cat "$round" command rclone --config "$rc" cat "rgw:bench-backy-$round/job/chunks"
  step restore-from "$round" "$backy" restore --from "s3://bench-backy-$round/job" -
  [ -z "${BACKY_BASE_BIN:-}" ] || step base-restore-from "$round" "$BACKY_BASE_BIN/backy" restore --from "s3://bench-backy-$round/job" -
  if [ "$round" -lt "$rounds" ]; then
    rclone purge "rgw:bench-rclone-$round"; rclone purge "rgw:bench-backy-$round"
    [ -z "${BACKY_BASE_BIN:-}" ] || rclone purge "rgw:bench-base-$round"
  fi
done
$py "$here/make-image.py" --mutate "$out/image.raw" 2
"$backy" -b "$job" backup daily 2>/dev/null
step backy-copy-inc "$rounds" "$backy" -b "$job" copy
$py - "$results" <<'PY' | tee -a "$results"
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter='\t'))
by = {(r['step'], r['round']): r for r in rows}
rounds = sorted({r['round'] for r in rows if r['step'] == 'backy-copy'})
def med(f): return statistics.median(f(r) for r in rounds)
w = lambda s, r: float(by[(s, r)]['wall'])
cpu = lambda s, r: float(by[(s, r)]['user']) + float(by[(s, r)]['sys'])
rgw = lambda s, r: float(by[(s, r)]['rgw_cpu'])
print(f"# medians over {len(rounds)} rounds")
print(f"backy copy / rclone copy (wall time): {med(lambda r: w('backy-copy', r) / w('rclone-copy', r)):.2f}x")
print(f"  client CPU s backy / rclone: {med(lambda r: cpu('backy-copy', r)):.2f} / {med(lambda r: cpu('rclone-copy', r)):.2f}; radosgw CPU s: {med(lambda r: rgw('backy-copy', r)):.2f} / {med(lambda r: rgw('rclone-copy', r)):.2f}")
print(f"restore --from / rclone cat (wall time): {med(lambda r: w('restore-from', r) / w('rclone-cat', r)):.2f}x (throughput {med(lambda r: w('rclone-cat', r) / w('restore-from', r)):.2f}x)")
print(f"  client CPU s backy / rclone: {med(lambda r: cpu('restore-from', r)):.2f} / {med(lambda r: cpu('rclone-cat', r)):.2f}; radosgw CPU s: {med(lambda r: rgw('restore-from', r)):.2f} / {med(lambda r: rgw('rclone-cat', r)):.2f}")
if ('base-copy', rounds[0]) in by:
    print(f"base (BACKY_BASE_BIN) copy / rclone copy (wall time): {med(lambda r: w('base-copy', r) / w('rclone-copy', r)):.2f}x; client CPU s {med(lambda r: cpu('base-copy', r)):.2f}")
    print(f"base restore --from / rclone cat (wall time): {med(lambda r: w('base-restore-from', r) / w('rclone-cat', r)):.2f}x; client CPU s {med(lambda r: cpu('base-restore-from', r)):.2f}")
print("per round, copy / rclone copy: " + ", ".join(f"{w('backy-copy', r) / w('rclone-copy', r):.2f}" for r in rounds)
      + "; restore --from / rclone cat: " + ", ".join(f"{w('restore-from', r) / w('rclone-cat', r):.2f}" for r in rounds))
last = rounds[-1]
print(f"incremental / full copy (wall time): {w('backy-copy-inc', last) / w('backy-copy', last):.2f}")
PY
