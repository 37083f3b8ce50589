#!/usr/bin/env python3
"""How much do long reads slow a health probe? Measured against the idle probe in one run.

Starts `botrix serve` on 127.0.0.1 with a fresh data file, appends JOBS jobs (one event
each), then samples GET /health/live latency for SECONDS: first idle, then while READERS
clients loop over a rare-type read of the whole log (`/api/events?type=JobCancelled`,
which examines READ_SCAN_BUDGET entries per request). Prints the median and p99 of each
phase and the ratio loaded/idle. Every loop is bounded in count and time.

    tools/read-starvation.py [BOTRIX_BINARY] [JOBS] [SECONDS] [READERS]
"""
import os, statistics, subprocess, sys, tempfile, threading, time, urllib.request, json, re
from concurrent.futures import ThreadPoolExecutor

binary = sys.argv[1] if len(sys.argv) > 1 else ".build/debug/botrix"
jobs = int(sys.argv[2]) if len(sys.argv) > 2 else 30000
seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 10
readers = int(sys.argv[4]) if len(sys.argv) > 4 else 8

work = tempfile.mkdtemp()
env = dict(os.environ, LMDB_SYNC="nosync", RATE_LIMIT_WRITES_PER_SECOND="1000000", RATE_LIMIT_BURST="1000000",
           RATE_LIMIT_READS_PER_SECOND="1000000", RATE_LIMIT_READ_BURST="1000000", LOG_LEVEL="info")
log = open(os.path.join(work, "server.log"), "w+")
server = subprocess.Popen([binary, "serve", "--host", "127.0.0.1", "--port", "0", "--db",
                           os.path.join(work, "botrix.mdb")], env=env, stderr=log, stdout=subprocess.DEVNULL)
try:
    port = None
    for _ in range(400):
        log.seek(0)
        found = re.search(r"listening on 127\.0\.0\.1:(\d+)", log.read())
        if found:
            port = int(found.group(1))
            break
        time.sleep(0.05)
    if port is None:
        sys.exit("the server did not start")
    base = f"http://127.0.0.1:{port}"

    def post_job(_):
        request = urllib.request.Request(f"{base}/api/jobs", data=b'{"count":1}', method="POST",
                                         headers={"Content-Type": "application/json"})
        urllib.request.urlopen(request, timeout=30).read()

    started = time.time()
    with ThreadPoolExecutor(32) as pool:
        list(pool.map(post_job, range(jobs)))
    print(f"appended {jobs} jobs in {time.time() - started:.1f} s")

    def probe_phase(duration):
        samples = []
        end = time.time() + duration
        while time.time() < end and len(samples) < 100000:
            t = time.perf_counter()
            urllib.request.urlopen(f"{base}/health/live", timeout=30).read()
            samples.append((time.perf_counter() - t) * 1000)
            time.sleep(0.02)
        return samples

    idle = probe_phase(seconds)
    stop = threading.Event()
    reads = [0]

    def reader():
        after = 0
        while not stop.is_set():
            with urllib.request.urlopen(f"{base}/api/events?type=JobCancelled&limit=10&after={after}", timeout=60) as r:
                page = json.loads(r.read())
            reads[0] += 1
            after = page["next_after"] if page["more"] else 0

    threads = [threading.Thread(target=reader, daemon=True) for _ in range(readers)]
    for t in threads:
        t.start()
    loaded = probe_phase(seconds)
    stop.set()
    for t in threads:
        t.join(timeout=60)

    def summary(samples):
        ordered = sorted(samples)
        return statistics.median(ordered), ordered[int(len(ordered) * 0.99) - 1]

    (idle_median, idle_p99), (loaded_median, loaded_p99) = summary(idle), summary(loaded)
    print(f"/health/live idle:   median {idle_median:.1f} ms, p99 {idle_p99:.1f} ms ({len(idle)} probes)")
    print(f"/health/live loaded: median {loaded_median:.1f} ms, p99 {loaded_p99:.1f} ms ({len(loaded)} probes, "
          f"{readers} readers made {reads[0]} bounded reads)")
    print(f"ratio loaded/idle: median {loaded_median / idle_median:.2f}, p99 {loaded_p99 / idle_p99:.2f}")
finally:
    server.terminate()
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
