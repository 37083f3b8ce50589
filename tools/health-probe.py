#!/usr/bin/env python3
"""Latency of one route while something else loads the server.

    tools/health-probe.py PORT [PATH] [SECONDS]

One keep-alive connection to 127.0.0.1:PORT asks for PATH (default /health/live) every 20 ms
for SECONDS (default 6) and prints the count, p50, p99 and max in milliseconds. Run it beside
a flood, e.g. `wrk -t1 -c64 -d8s http://127.0.0.1:PORT/api/accounts?limit=10`, to see how long
a probe waits behind the flood (README, Performance: "Account pages").
"""
import http.client
import sys
import time

port = int(sys.argv[1])
path = sys.argv[2] if len(sys.argv) > 2 else "/health/live"
seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 6.0
connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
latencies = []
end = time.time() + seconds
while time.time() < end:
    start = time.perf_counter()
    connection.request("GET", path)
    response = connection.getresponse()
    response.read()
    if response.status != 200:
        sys.exit(f"{path} answered {response.status}")
    latencies.append((time.perf_counter() - start) * 1000)
    time.sleep(0.02)
latencies.sort()
if not latencies:
    sys.exit("no answer within the time given")
print(
    f"{path}: n={len(latencies)} p50={latencies[len(latencies) // 2]:.1f} "
    f"p99={latencies[int(len(latencies) * 0.99)]:.1f} max={latencies[-1]:.1f} ms"
)
