"""Starts backy-daemon with NOTIFY_SOCKET, times READY=1, samples idle CPU and RSS, stops it."""
import os, socket, subprocess, sys, time

daemon, config, log, idle, jobs = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), sys.argv[5]
path = f"/tmp/bscale-{os.getpid()}.sock"  # short: Unix socket paths are limited to 108 bytes
if os.path.exists(path):
    os.unlink(path)
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(path)
sock.settimeout(60)
tick = os.sysconf("SC_CLK_TCK")

def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / tick  # utime + stime

def rss_mib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")

env = dict(os.environ, NOTIFY_SOCKET=path)
start = time.monotonic()
proc = subprocess.Popen([daemon, "-c", config, "-l", log], env=env, stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
try:
    while True:
        msg = sock.recv(4096).decode()
        if "READY=1" in msg.split("\n"):
            break
    ready = time.monotonic() - start
    rss_ready = rss_mib(proc.pid)
    time.sleep(5)  # let start-up work (JIT, first GC) settle before measuring idle
    c0, t0 = cpu_seconds(proc.pid), time.monotonic()
    time.sleep(idle)
    c1, t1 = cpu_seconds(proc.pid), time.monotonic()
    rss_idle = rss_mib(proc.pid)
    cpu = 100 * (c1 - c0) / (t1 - t0)
    proc.terminate()
    code = proc.wait(timeout=60)
    print(f"jobs={jobs} ready={ready:.2f}s idle_cpu={cpu:.2f}% (over {t1 - t0:.0f}s) "
          f"rss_at_ready={rss_ready:.0f}MiB rss_idle={rss_idle:.0f}MiB exit={code}")
finally:
    if proc.poll() is None:
        proc.kill()
    sock.close()
    os.unlink(path)
