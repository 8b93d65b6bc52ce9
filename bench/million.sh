#!/usr/bin/env bash
# A million connections from one process against one `horde serve` on this
# host: ramp at a paced connect rate, hold with a ping every 30 s on every
# connection, close at the same pace. Prints what the issue asks to see:
# opened and failed, the connect rate over the whole ramp and over its last
# tenth, horde's memory per held connection, pings answered, the close's
# outcome and length, peak RSS against the hold's, and the kernel's own
# memory (/proc/net/sockstat) beside horde's and the server's. Writes
# bench/results/million-N[-tls].json. Not part of CI: it needs ~10 GB of
# memory and kernel limits this host may not have; it asks `horde tune`
# first and refuses to start when the plan does not fit.
#
#   bench/million.sh [connections=1000000] [connect_rate=10000] [hold_seconds=60] [ws|tls]
#   PING=0 bench/million.sh ...   (no pings: the ramp and close alone; default PING=30s)
#   CLOSE_RATE=20000 bench/million.sh ...   (closes per second; default 0: as fast as the server answers)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
n=${1:-1000000}
rate=${2:-10000}
hold=${3:-60}
mode=${4:-ws}
ping=${PING:-30s}
close_rate=${CLOSE_RATE:-0}

tune_args=(-c "$n" --connect-rate "${rate}/s" --ping-interval "$ping")
[ "$mode" = tls ] && tune_args+=(--tls)
if ! "$horde" tune "${tune_args[@]}" >"$tmp/tune.txt" 2>&1; then
  grep -E '^FAIL|^warn|fix:' "$tmp/tune.txt" >&2 || true
  echo "million.sh: the plan does not fit this host; apply the fixes above" \
    "(as root: $horde tune ${tune_args[*]} --apply) and run again" >&2
  exit 2
fi

serve_extra=()
run_extra=()
if [ "$mode" = tls ]; then
  # A throwaway CA and a P-256 certificate for localhost (never kept).
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
    -subj "/CN=horde bench CA" -keyout "$tmp/ca.key" -out "$tmp/ca.pem" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
    -keyout "$tmp/server.key" -out "$tmp/server.csr" 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$tmp/san.cnf"
  openssl x509 -req -in "$tmp/server.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" \
    -CAcreateserial -days 1 -extfile "$tmp/san.cnf" -out "$tmp/server.pem" 2>/dev/null
  serve_extra=(--tls-cert "$tmp/server.pem" --tls-key "$tmp/server.key")
  run_extra=(--ca "$tmp/ca.pem")
fi
start_server --max-connections "$n" "${serve_extra[@]}"
if [ "$mode" = tls ]; then
  port=${url##*:}
  url="wss://localhost:${port%%/*}/"
fi

# Every second: the kernel's TCP sockets and pages, horde's and the server's RSS.
(
  while sleep 1; do
    run_pid=$(pgrep -n -f "horde run $url" || true)
    printf '%s %s %s %s %s\n' "$(date +%s)" \
      "$(awk '/^TCP:/{print $3, $11}' /proc/net/sockstat)" \
      "$(awk '/^Slab:/{printf "%.0f", $2*1024}' /proc/meminfo)" \
      "$( [ -n "$run_pid" ] && awk '/VmRSS/{printf "%.0f", $2*1024}' "/proc/$run_pid/status" 2>/dev/null || echo 0)" \
      "$(awk '/VmRSS/{printf "%.0f", $2*1024}' "/proc/$server_pid/status" 2>/dev/null || echo 0)"
  done
) >"$tmp/samples" &
sampler=$!
trap 'kill "$sampler" 2>/dev/null || true; stop_server; rm -rf "$tmp"' EXIT

ramp=$(( (n + rate - 1) / rate ))
duration=$(( ramp + hold ))
echo "== $n $mode connections at ${rate}/s (ramp ${ramp}s), held ${hold}s, pings every $ping, closes at ${close_rate}/s (0: as fast as the server answers)"
"$horde" run "$url" "${run_extra[@]}" --leave-for-target 0 -c "$n" --connect-rate "${rate}/s" \
  --close-rate "${close_rate}/s" --duration "${duration}s" --ping-interval "$ping" --rate 0 \
  --json "$tmp/run.json" --quiet | tee "$tmp/run.txt" || true
kill "$sampler" 2>/dev/null || true

suffix=$([ "$mode" = tls ] && echo "-tls" || true)
python3 - "$tmp/run.json" "$tmp/samples" "$out_dir/million-$n$suffix.json" "$ramp" "$duration" <<'PY'
import json, sys
run = json.load(open(sys.argv[1]))
# time, TCP sockets in use, TCP pages, kernel slab bytes, horde RSS, server RSS
samples = [[int(float(v)) for v in l.split()] for l in open(sys.argv[2]) if len(l.split()) == 6]
out, ramp, duration = sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
plan_n = run["plan"]["connections"]
c, s, series = run["connections"], run["self"], run["series"]
ramp = run.get("ramp") or {}
full = ramp.get("seconds_to_open_all")
# The close phase: from the end of the hold to the end of the run (no
# messages: no drain in between).
close_phase = run["elapsed_seconds"] - duration
# The hold: the samples while every opened connection was held.
held = [x for x in samples if x[1] >= 2 * 0.99 * c["peak_open"]]
kernel_pages = max((x[2] for x in held), default=0)
slab_before = samples[0][3] if samples else 0
slab_held = max((x[3] for x in held), default=0)
server_rss = max((x[5] for x in held), default=0)
page = 4096
fig = {
    "benchmark": "million", "environment": run["environment"], "asked": plan_n,
    "opened": c["opened"], "failed": c["failed"], "failures": {k: v for k, v in c["failures"].items() if v},
    "time_to_open_all_s": full,
    "connect_rate_asked": run["plan"]["connect_rate"],
    "connect_rate_overall": ramp.get("per_second_overall"),
    "connect_rate_last_tenth": ramp.get("per_second_last_tenth"),
    "connect_p99_ms": run["latency"]["connect"]["percentiles_ns"].get("p99", 0) / 1e6,
    "horde_bytes_per_held_connection": s["memory_per_connection_bytes"],
    "horde_rss_at_hold_bytes": s["rss_at_peak_open"], "horde_peak_rss_bytes": s["peak_rss_bytes"],
    "peak_over_hold": s["peak_rss_bytes"] / max(1, s["rss_at_peak_open"]),
    "pings_sent": run["messages"]["pings_sent"], "pongs_received": run["messages"]["pongs_received"],
    "closed_clean": c["closed_clean"], "close_timed_out": c.get("close_timed_out"),
    "close_reset": c.get("close_reset"), "close_without_frame": c.get("close_without_frame"),
    "close_phase_s": close_phase,
    "kernel_tcp_buffer_bytes_at_hold": kernel_pages * page,
    "kernel_slab_growth_bytes": slab_held - slab_before,
    "kernel_slab_bytes_per_socket": (slab_held - slab_before) / max(1, 2 * c["peak_open"]),
    "server_rss_at_hold_bytes": server_rss,
    "server_bytes_per_connection": server_rss / max(1, c["peak_open"]),
    "horde_cpu_seconds": s["cpu_user_seconds"] + s["cpu_system_seconds"],
    "shards": run["plan"]["shards"], "elapsed_s": run["elapsed_seconds"],
}
json.dump(fig, open(out, "w"), indent=1)
for k, v in fig.items():
    if k != "environment":
        print(f"{k:34} {v}")
print(f"written {out}")
PY
