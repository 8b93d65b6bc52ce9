#!/usr/bin/env bash
# Hold benchmark: open N WebSocket connections to a separate `horde serve`
# (so each side's memory is measured on its own), hold them with a ping every
# 10 s, and write bench/results/hold-N.json with the figures, the kernel, the
# CPUs and the limits in force. Prints figures; never passes or fails on them.
# horde and the server share every CPU (--leave-for-target 0), as the README's figures
# were measured; bench/echo.sh is the one that splits them.
#
#   bench/hold.sh [connections=100000] [hold_seconds=30] [connect_rate=40000]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
n=${1:-100000}
hold=${2:-30}
rate=${3:-40000}

start_server --max-connections "$n"
server_rss_before=$(awk '/VmRSS/{print $2*1024}' /proc/$server_pid/status)

# Ramp time at the asked rate, plus the hold.
ramp=$(( (n + rate - 1) / rate ))
duration=$(( ramp + hold ))
( # sample the server's RSS at the end of the hold, while everything is open
  sleep $(( duration - 1 )); awk '/VmRSS/{print $2*1024}' /proc/$server_pid/status >"$tmp/server_rss_held"
) &
sampler_pid=$!
"$horde" run "$url" --leave-for-target 0 -c "$n" --connect-rate "${rate}/s" --duration "${duration}s" --ping-interval 10s --rate 0 \
  --json "$tmp/run.json" --quiet | tee "$tmp/run.txt"
wait "$sampler_pid"  # not a bare wait: the server runs until the trap kills it
python3 - "$tmp/run.json" "$server_rss_before" "$(cat "$tmp/server_rss_held")" "$out_dir/hold-$n.json" <<'PY'
import json, os, sys
run = json.load(open(sys.argv[1]))
server_before, server_held, out = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
c = run["connections"]; s = run["self"]
opened = c["opened"]
series = run["series"]
full = next((p["t"] for p in series if p["opened"] >= run["plan"]["connections"]), None)
fig = {
  "benchmark": "hold",
  "environment": run["environment"],
  "connections_asked": run["plan"]["connections"],
  "opened": opened, "peak_open": c["peak_open"], "failed": c["failed"], "failures": c["failures"],
  "time_to_open_all_s": full,
  "connects_per_s": (opened / full) if full else None,
  "connect_p99_ms": run["latency"]["connect"]["percentiles_ns"]["p99"] / 1e6,
  "upgrade_p99_ms": run["latency"]["upgrade"]["percentiles_ns"]["p99"] / 1e6,
  "pings_sent": run["messages"]["pings_sent"], "pongs_received": run["messages"]["pongs_received"],
  "horde_rss_per_connection_bytes": (s["rss_at_peak_open"] - s["rss_before_connections"]) / max(1, s["open_at_rss_sample"]),
  "horde_cpu_seconds": s["cpu_user_seconds"] + s["cpu_system_seconds"],
  "server_rss_per_connection_bytes": (server_held - server_before) / max(1, opened),
  "shards": run["plan"]["shards"], "notes": run["notes"],
}
json.dump(fig, open(out, "w"), indent=1)
for k, v in fig.items():
  if k not in ("environment", "failures"): print(f"{k:34} {v}")
print(f"written {out}")
PY
