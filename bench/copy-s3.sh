#!/usr/bin/env bash
# Off-site copy benchmark: `backy copy` and `restore --from` against rclone on the same radosgw, one run.
#
#   bench/copy-s3.sh [SIZE_MIB]     (default 1024; results in bench/out/copy/results.tsv)
#
# On a throwaway single-node Ceph with radosgw (scripts/ceph-cluster start + rgw, memstore), an image from
# make-image.py (30 % holes, 40 % text, 30 % random), one local backup, then:
#   rclone-copy     rclone copy of the job directory into a bucket (the tool an operator would use instead)
#   backy-copy      backy copy of the same job into another bucket (full copy)
#   backy-copy-inc  backy copy after 400 random 4 KiB writes and a backup (incremental)
#   rclone-cat      rclone cat of every chunk object backy copy stored, to /dev/null (the download limit)
#   restore-from    backy restore --from s3://... - into /dev/null (streams every block, holes as zeros)
# Each step runs once against the same radosgw, so the ratios compare like with like.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
size_mib=${1:-1024}
out=${BENCH_OUT:-$here/out}/copy
py=/usr/bin/python3
rm -rf "$out"; mkdir -p "$out"
cluster="$out/cluster"

echo "== building backy (Release)"
"$root/scripts/publish" "$out/bin" >/dev/null
backy="$out/bin/backy"

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
rclone mkdir rgw:bench-rclone
rclone mkdir rgw:bench-backy

echo "== making a ${size_mib} MiB image and backing it up"
job="$out/job"; mkdir -p "$job"
$py "$here/make-image.py" "$out/image.raw" "$size_mib" 1
cat >"$job/config" <<CFG
source: {type: file, filename: $out/image.raw}
schedule:
  daily: {interval: 1d, keep: 7}
copies:
  offsite: {type: s3, endpoint: $S3_ENDPOINT, bucket: bench-backy, region: default, access-key: $AWS_ACCESS_KEY_ID, secret-key: $AWS_SECRET_ACCESS_KEY}
CFG
"$backy" -b "$job" backup daily 2>/dev/null
du -sm "$job" | awk '{print "job directory: " $1 " MiB"}'

results="$out/results.tsv"
: >"$results"
step() { # step NAME COMMAND...: wall seconds into results
  local name=$1; shift
  local t0 t1
  t0=$(date +%s.%N); "$@" >/dev/null 2>"$out/$name.err"; t1=$(date +%s.%N)
  echo -e "$name\t$(echo "$t1 - $t0" | bc)" | tee -a "$results"
}
step rclone-copy rclone copy --transfers 8 "$job" rgw:bench-rclone/job
step backy-copy "$backy" -b "$job" copy
$py "$here/make-image.py" --mutate "$out/image.raw" 2
"$backy" -b "$job" backup daily 2>/dev/null
step backy-copy-inc "$backy" -b "$job" copy
step rclone-cat rclone cat rgw:bench-backy/job/chunks
step restore-from "$backy" restore --from s3://bench-backy/job -r 1 -
awk -F'\t' '{t[$1]=$2} END {
  printf "backy copy / rclone copy (time): %.2fx\n", t["backy-copy"]/t["rclone-copy"];
  printf "incremental / full copy (time): %.2f\n", t["backy-copy-inc"]/t["backy-copy"];
  printf "restore --from / rclone cat (time): %.2fx\n", t["restore-from"]/t["rclone-cat"] }' "$results" | tee -a "$results"
