#!/usr/bin/env bash
# A realistic image: an ext4 file system of SIZE_MIB populated from this machine's /usr.
#
#   bench/make-usr-image.sh IMAGE SIZE_MIB
#
# /usr rarely fits whole, so the top-level entries of /usr/* and /usr/*/* (in name order) are taken while they
# fit in 80 % of the size (file system overhead and slack), hard-linked into a staging directory (no copy
# where it is on the same file system as /usr), and `mkfs.ext4 -q -F -d STAGING IMAGE` builds the image.
set -euo pipefail
img=$1 size_mib=$2
budget=$(( size_mib * 1024 * 1024 * 8 / 10 ))
stage="$img.staging"
rm -rf "$stage" "$img"; mkdir -p "$stage/usr"
used=0
while IFS= read -r entry; do
  [ -L "$entry" ] && continue
  n=$(du -s -B1 -x "$entry" 2>/dev/null | cut -f1); n=${n:-0}
  [ $(( used + n )) -gt "$budget" ] && continue
  rel=${entry#/usr/}
  mkdir -p "$stage/usr/$(dirname "$rel")"
  cp -al "$entry" "$stage/usr/$rel" 2>/dev/null || cp -a "$entry" "$stage/usr/$rel"
  used=$(( used + n ))
done < <(find /usr -mindepth 2 -maxdepth 2 | LC_ALL=C sort)
truncate -s "${size_mib}M" "$img"
mkfs.ext4 -q -F -d "$stage" "$img"
rm -rf "$stage"
echo "$img: ${size_mib} MiB ext4 holding $(( used >> 20 )) MiB of /usr"
