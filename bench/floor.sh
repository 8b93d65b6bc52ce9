#!/usr/bin/env bash
# Kernel floor: what a plain epoll ping-pong client (bench/pingpong_floor_bench.cc)
# pays per round trip on this machine, beside `horde run --raw` and `horde run`
# (WebSocket) at a fixed rate, all against `horde serve` on its own CPUs, in
# one run (ratios: the machine is shared). Writes bench/results/floor.json.
# Prints figures; never passes or fails on them.
#
#   bench/floor.sh [connections=1000] [seconds=8] [rate=150000]
#
# On loopback the sender's CPU also runs the receiver's TCP path, so every
# figure here includes the server's receive work for what the client sent.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
floor=${FLOOR:-$build/bench/pingpong_floor_bench}
conns=${1:-1000}
secs=${2:-8}
rate=${3:-150000}

ncpu=$(nproc)
serve_cpus=() client_cpu=-1 run_cpus=()
if [ "$ncpu" -ge 2 ]; then
  half=$((ncpu / 2))
  serve_cpus=(--cpus "$half-$((ncpu - 1))")
  client_cpu=0
  run_cpus=(--cpus "0-$((half - 1))")
fi

start_server --raw --max-connections "$conns" "${serve_cpus[@]}"
port=${url##*:}; port=${port%%/*}
"$floor" "$port" "$conns" "$secs" "$client_cpu" 64 | tee "$tmp/floor.txt"
"$horde" run "$url" --raw -c "$conns" --connect-rate 0 --total-rate "${rate}/s" --size 64 \
  --duration "${secs}s" --json "$tmp/raw.json" --quiet "${run_cpus[@]}" >/dev/null
stop_server
start_server --max-connections "$conns" "${serve_cpus[@]}"
"$horde" run "$url" -c "$conns" --connect-rate 0 --total-rate "${rate}/s" --size 64 \
  --duration "${secs}s" --json "$tmp/ws.json" --quiet "${run_cpus[@]}" >/dev/null
stop_server

python3 - "$tmp" "$out_dir/floor.json" "$rate" <<'PY'
import json, os, re, sys
tmp, out, rate = sys.argv[1], sys.argv[2], int(sys.argv[3])
text = open(os.path.join(tmp, "floor.txt")).read()
per_s, per_million = re.search(r"([\d.]+) round trips/s.* ([\d.]+) CPU-s per million", text).groups()
fig = {"benchmark": "floor", "asked_per_s": rate,
       "epoll_floor": {"round_trips_per_s": float(per_s), "cpu_s_per_million": float(per_million)}}
for mode in ("raw", "ws"):
  r = json.load(open(os.path.join(tmp, mode + ".json")))
  m, s = r["messages"], r["self"]
  cpu = s["cpu_user_seconds"] + s["cpu_system_seconds"]
  fig["horde_" + mode] = {"round_trips_per_s": m["answered"] / r["elapsed_seconds"],
                          "cpu_s_per_million": cpu / max(1, m["answered"]) * 1e6,
                          "schedule_kept": s["schedule_kept"],
                          "p99_ms": r["latency"]["round_trip"]["percentiles_ns"]["p99"] / 1e6}
  fig["environment"] = r["environment"]
floor = fig["epoll_floor"]["cpu_s_per_million"]
for mode in ("raw", "ws"):
  h = fig["horde_" + mode]
  print(f"horde {mode:>3} at {rate}/s asked: {h['round_trips_per_s']:.0f} round trips/s, "
        f"{h['cpu_s_per_million']:.2f} CPU-s per million ({h['cpu_s_per_million'] / floor:.2f}x the "
        f"epoll floor), p99 {h['p99_ms']:.2f} ms, schedule {'kept' if h['schedule_kept'] else 'NOT kept'}")
json.dump(fig, open(out, "w"), indent=1)
print(f"written {out}")
PY
