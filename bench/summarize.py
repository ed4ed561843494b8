#!/usr/bin/env python3
"""Turns bench/run's results.tsv into a Markdown table with MB/s and Backy's ratio to each peer."""
import platform, subprocess, sys
from collections import defaultdict

path, size_mib = sys.argv[1], int(sys.argv[2])
usr_mib = int(sys.argv[3]) if len(sys.argv) > 3 else 0
t, rss, cpu_s, repo, usr_repo = defaultdict(dict), defaultdict(dict), defaultdict(dict), {}, {}
for line in open(path):
    f = line.rstrip("\n").split("\t")
    if f[1] == "repo":
        repo[f[0]] = int(f[2])
    elif f[1] == "usr-repo":
        usr_repo[f[0]] = int(f[2])
    else:
        t[f[0]][f[1]] = float(f[2]); rss[f[0]][f[1]] = int(f[3])
        if len(f) > 4: cpu_s[f[0]][f[1]] = float(f[4])

mb = size_mib * 1048576 / 1e6
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
print(f"Image {size_mib} MiB; {cpu}; {subprocess.getoutput('nproc')} cores; {platform.platform()}\n")
print(f"raw limits: read {mb / max(t['raw']['read'], 1e-3):.0f} MB/s, write+fdatasync {mb / max(t['raw']['write'], 1e-3):.0f} MB/s\n")
steps = ["full", "incremental", "nochange", "restore-file", "restore-stdout"]
tools = [x for x in ("backy", "borg", "restic") if x in t]
peers = [x for x in tools if x != "backy"] if "backy" in tools else []
print("| step | " + " | ".join(f"{x} s (MB/s, RSS MiB)" for x in tools) + " | " + " | ".join(f"backy/{x}" for x in peers) + " |")
print("|---" * (1 + len(tools) + len(peers)) + "|")
for s in steps:
    cells = []
    for x in tools:
        sec = t[x].get(s)
        cells.append("-" if sec is None else f"{sec:.2f} ({mb / max(sec, 1e-3):.0f}, {rss[x][s] / 1024:.0f})")
    ratios = []
    for x in peers:
        a, b = t["backy"].get(s), t[x].get(s)
        ratios.append("-" if not a or not b else f"{a / b:.2f}x")
    print(f"| {s} | " + " | ".join(cells) + " | " + " | ".join(ratios) + " |")
print("\nrepository size: " + ", ".join(f"{x} {repo[x] / 1048576:.0f} MiB" for x in tools if x in repo))
print("\nRatios are Backy's time divided by the peer's: below 1 means Backy is faster.")
print(f"Raw-limit ratios: backy full backup reads at {t['raw']['read'] / t['backy']['full'] * 100:.0f}% of cat speed; "
      f"restore-file at {t['raw']['write'] / t['backy']['restore-file'] * 100:.0f}% of dd+fdatasync speed."
      if "full" in t.get("backy", {}) and "read" in t.get("raw", {}) else "")

usr_tools = [x for x in ("backy-lz4", "backy-zstd1", "backy-zstd3", "restic-auto", "restic-max", "restic-zstd",
                          "borg-zstd1", "borg-zstd3") if x in usr_repo]
if usr_tools:
    umb = usr_mib * 1048576 / 1e6
    print(f"\nRealistic image: {usr_mib} MiB ext4 populated from /usr (`cat` {t['raw'].get('usr-read', 0):.2f} s). "
          "Ratios: Backy's figure divided by the peer's (below 1 = Backy faster or smaller); CPU = user + system seconds.\n")
    peers_u = [x for x in usr_tools if not x.startswith("backy")]
    print("| tool | backup s (MB/s, RSS MiB, CPU s) | restore s (MB/s, CPU s) | repository MiB | "
          + " | ".join(f"backup/restore/size vs {p}" for p in peers_u) + " |")
    print("|---" * (4 + len(peers_u)) + "|")
    for x in usr_tools:
        b, r, z = t[x].get("usr-full"), t[x].get("usr-restore"), usr_repo[x]
        bc, rc = cpu_s[x].get("usr-full"), cpu_s[x].get("usr-restore")
        cells = [f"{b:.2f} ({umb / max(b, 1e-3):.0f}, {rss[x]['usr-full'] / 1024:.0f}, {bc if bc is not None else '?'})" if b else "-",
                 f"{r:.2f} ({umb / max(r, 1e-3):.0f}, {rc if rc is not None else '?'})" if r else "-", f"{z / 1048576:.0f}"]
        for p in peers_u:
            if not x.startswith("backy"):
                cells.append("")
                continue
            pb, pr, pz = t[p].get("usr-full"), t[p].get("usr-restore"), usr_repo[p]
            cells.append(f"{b / pb:.2f}x / {r / pr:.2f}x / {z / pz:.2f}x")
        print(f"| {x} | " + " | ".join(cells) + " |")
