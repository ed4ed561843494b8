"""Starts backy-daemon with NOTIFY_SOCKET, times READY=1, samples idle CPU and RSS (scraping /metrics every 15 s
when a metrics port is given, then timing 10 scrapes with curl), stops it."""
import os, socket, statistics, subprocess, sys, threading, time, urllib.request

daemon, config, log, idle, jobs = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), sys.argv[5]
metrics_port = int(sys.argv[6]) if len(sys.argv) > 6 else 0
url = f"http://127.0.0.1:{metrics_port}/metrics"
path = f"/tmp/bscale-{os.getpid()}.sock"  # short: Unix socket paths are limited to 108 bytes
if os.path.exists(path):
    os.unlink(path)
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(path)
sock.settimeout(120)
tick = os.sysconf("SC_CLK_TCK")

def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / tick  # utime + stime

def rss_mib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")

def curl_seconds():
    out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{time_total} %{http_code}", url],
                         capture_output=True, text=True, check=True).stdout.split()
    if out[1] != "200":
        raise SystemExit(f"scrape of {url}: HTTP {out[1]}")
    return float(out[0])

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
    first = curl_seconds() if metrics_port else None  # the first scrape after start (JIT, every job's view read)
    if metrics_port:
        # The state after ten minutes of Prometheus: 40 scrapes, so that the JIT has compiled the scrape's code at its
        # final tier and the stored-bytes walks the first scrape queued are done. The window then measures a steady
        # daemon scraped every 15 s.
        for _ in range(40):
            urllib.request.urlopen(url, timeout=30).read()
            time.sleep(0.25)
        time.sleep(5)
    stop = threading.Event()
    def scrape():  # Prometheus' default interval; the scrape's own cost is the daemon's, in its CPU seconds
        while not stop.wait(15):
            urllib.request.urlopen(url, timeout=30).read()
    scraper = threading.Thread(target=scrape, daemon=True)
    c0, t0 = cpu_seconds(proc.pid), time.monotonic()
    if metrics_port:
        scraper.start()
    time.sleep(idle)
    c1, t1 = cpu_seconds(proc.pid), time.monotonic()
    stop.set()
    rss_idle = rss_mib(proc.pid)
    cpu = c1 - c0
    scrapes = ""
    if metrics_port:
        times = [curl_seconds() for _ in range(10)]
        scrapes = f" scrape_first={first * 1000:.0f}ms scrape_median={statistics.median(times) * 1000:.1f}ms (min {min(times) * 1000:.1f}, max {max(times) * 1000:.1f})"
    proc.terminate()
    code = proc.wait(timeout=60)
    print(f"jobs={jobs} ready={ready:.2f}s idle_cpu={cpu:.2f}s ({100 * cpu / (t1 - t0):.2f}% over {t1 - t0:.0f}s) "
          f"rss_at_ready={rss_ready:.0f}MiB rss_idle={rss_idle:.0f}MiB{scrapes} exit={code}", flush=True)
finally:
    if proc.poll() is None:
        proc.kill()
    sock.close()
    os.unlink(path)
