#!/usr/bin/env python3
"""Deterministic benchmark image: 4 MiB regions, ~30% all-zero, ~40% text-like (compressible),
~30% random. `make-image.py IMAGE SIZE_MIB [SEED]`; `make-image.py --mutate IMAGE [SEED] [COUNT]`
applies COUNT (default 400) random 4 KiB writes, as an incremental-backup workload."""
import os, random, sys

REGION = 4 << 20
WORDS = ("block device backup restore chunk revision schedule daily weekly monthly retention "
         "snapshot ceph image volume guest kernel filesystem journal inode extent sector cluster "
         "the of and to in is that for it as with was on be by at this have from or one had").split()


def make(path, size_mib, seed):
    rnd = random.Random(seed)
    pool = (" ".join(rnd.choices(WORDS, k=3_000_000)) + "\n").encode() * 2
    size = size_mib << 20
    with open(path, "wb") as f:
        written = 0
        while written < size:
            n = min(REGION, size - written)
            kind = rnd.random()
            if kind < 0.30:
                f.seek(n, os.SEEK_CUR)  # sparse zero region
            elif kind < 0.70:
                start = rnd.randrange(0, len(pool) - n)
                f.write(pool[start:start + n])
            else:
                f.write(rnd.randbytes(n))
            written += n
        f.truncate(size)


def mutate(path, seed, count):
    rnd = random.Random(seed)
    size = os.path.getsize(path)
    with open(path, "r+b") as f:
        for _ in range(count):
            f.seek(rnd.randrange(0, size // 4096) * 4096)
            f.write(rnd.randbytes(4096))
        f.flush()
        os.fsync(f.fileno())


if __name__ == "__main__":
    if sys.argv[1] == "--mutate":
        mutate(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 2, int(sys.argv[4]) if len(sys.argv) > 4 else 400)
    else:
        make(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 1)
