#!/usr/bin/env bash
# Sparse-file backups: a SPARSE_GIB sparse file holding DATA_MIB of data against a dense file holding the
# same data in DATA_MIB + 28 MiB (the data at an odd offset in both), then a HUGE_GIB sparse file with
# HUGE_DATA_MIB of data for peak RSS. Each backup includes the post-backup verification.
#
#   bench/sparse-backup.sh WORKER OUT_DIR [SPARSE_GIB=64] [DATA_MIB=100] [HUGE_GIB=2048] [HUGE_DATA_MIB=1024]
#
# Prints "step seconds maxrss_kib" lines and the ratio sparse/dense (target <= 3x).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
worker=$1 out=$2 sparse_gib=${3:-64} data_mib=${4:-100} huge_gib=${5:-2048} huge_data_mib=${6:-1024}
py=/usr/bin/python3
w="$out/sparse"; rm -rf "$w"; mkdir -p "$w"

# write_data FILE OFFSET MIB: the benchmark's mixed data (text, random) at OFFSET, without its zero regions
write_data() {
  $py - "$1" "$2" "$3" <<'PY'
import random, sys
path, offset, mib = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rnd = random.Random(5)
text = (" ".join(rnd.choices("block device backup restore chunk revision snapshot image volume the of and to".split(), k=400_000)) + "\n").encode()
with open(path, "r+b") as f:
    f.seek(offset)
    for i in range(mib):
        f.write(rnd.randbytes(1 << 20) if i % 3 == 0 else text[(i * 7919) % 1000:][: 1 << 20].ljust(1 << 20, b"x"))
PY
}

job() {   # job DIR IMAGE
  mkdir -p "$1"
  printf 'source:\n  type: file\n  filename: %s\nschedule:\n  daily: {interval: 1d, keep: 7}\n' "$2" > "$1/config"
}

run() {   # run STEP JOB
  sync
  /usr/bin/time -f "%e %M" -o "$w/time.txt" "$worker" -b "$2" backup daily >/dev/null 2>"$w/$1.err" \
    || { echo "FAILED: $1"; cat "$w/$1.err"; exit 1; }
  read -r secs rss < <(tail -n 1 "$w/time.txt")
  printf '%s\t%s\t%s\n' "$1" "$secs" "$rss"
}

truncate -s $((data_mib + 28))M "$w/dense.img"; write_data "$w/dense.img" 12345 "$data_mib"
truncate -s "${sparse_gib}G" "$w/sparse.img"; write_data "$w/sparse.img" $(( (sparse_gib << 29) + 12345 )) "$data_mib"
cat "$w/dense.img" >/dev/null
job "$w/job-dense" "$w/dense.img"; job "$w/job-sparse" "$w/sparse.img"
run dense-full "$w/job-dense" | tee -a "$w/results.tsv"
run sparse-full "$w/job-sparse" | tee -a "$w/results.tsv"
run dense-nochange "$w/job-dense" | tee -a "$w/results.tsv"
run sparse-nochange "$w/job-sparse" | tee -a "$w/results.tsv"
rm -rf "$w/job-dense" "$w/job-sparse" "$w/dense.img" "$w/sparse.img"

if [ "$huge_gib" -gt 0 ]; then
  truncate -s "${huge_gib}G" "$w/huge.img"; write_data "$w/huge.img" $(( (huge_gib << 29) + 4097 )) "$huge_data_mib"
  job "$w/job-huge" "$w/huge.img"
  run huge-full "$w/job-huge" | tee -a "$w/results.tsv"
  rm -rf "$w/job-huge" "$w/huge.img"
fi
awk -F'\t' '{t[$1]=$2; m[$1]=$3} END {
  printf "sparse %s GiB / dense: full %.2fx, no change %.2fx (target <= 3x)\n", "'"$sparse_gib"'", t["sparse-full"]/t["dense-full"], t["sparse-nochange"]/t["dense-nochange"];
  if ("huge-full" in t) printf "huge %s GiB with %s MiB data: %.2f s, peak RSS %.0f MiB (target < 150)\n", "'"$huge_gib"'", "'"$huge_data_mib"'", t["huge-full"], m["huge-full"]/1024 }' "$w/results.tsv"
