#!/usr/bin/env bash
# Raw-limit benchmark: the same patterns with and without WebSocket, on the
# same engine, side by side in one run (ratios, since the machine is shared):
#   connect: open N connections at the asked rate, held briefly;
#   echo:    1,000 connections, 64-byte messages at each total rate.
# Writes bench/results/raw.json. Prints figures; never passes or fails.
#
#   bench/raw.sh [connections=100000] [rates="50000 100000 150000"]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
n=${1:-100000}
rates=${2:-"50000 100000 150000"}

for mode in ws raw; do
  flag=""
  [ "$mode" = raw ] && flag="--raw"
  start_server $flag --max-connections "$n"
  "$horde" run "$url" --leave-for-target 0 $flag -c "$n" --connect-rate 60000/s --rate 0 --duration 6s \
    --json "$tmp/$mode-connect.json" --quiet >/dev/null
  for rate in $rates; do
    "$horde" run "$url" --leave-for-target 0 $flag -c 1000 --connect-rate 0 --total-rate "${rate}/s" --size 64 \
      --duration 6s --json "$tmp/$mode-echo-$rate.json" --quiet >/dev/null
  done
  stop_server
done

python3 - "$tmp" "$out_dir/raw.json" "$rates" <<'PY'
import json, os, sys
tmp, out, rates = sys.argv[1], sys.argv[2], sys.argv[3].split()
def load(name): return json.load(open(os.path.join(tmp, name)))
fig = {"benchmark": "raw", "connect": {}, "echo": {}}
for mode in ("ws", "raw"):
  r = load(f"{mode}-connect.json"); c = r["connections"]
  full = next((p["t"] for p in r["series"] if p["opened"] >= r["plan"]["connections"]), None)
  fig["connect"][mode] = {"opened": c["opened"], "failed": c["failed"], "time_to_open_all_s": full,
                          "connect_p99_ms": r["latency"]["connect"]["percentiles_ns"]["p99"] / 1e6}
  fig["environment"] = r["environment"]
  for rate in rates:
    e = load(f"{mode}-echo-{rate}.json"); m = e["messages"]; s = e["self"]
    rt = e["latency"]["round_trip"]["percentiles_ns"]
    fig["echo"].setdefault(rate, {})[mode] = {
      "round_trips_per_s": m["answered"] / e["elapsed_seconds"], "lost": m["sent"] - m["answered"],
      "p50_ms": rt["p50"] / 1e6, "p99_ms": rt["p99"] / 1e6,
      "cpu_s_per_million": (s["cpu_user_seconds"] + s["cpu_system_seconds"]) / max(1, m["answered"]) * 1e6,
      "schedule_kept": s["schedule_kept"]}
json.dump(fig, open(out, "w"), indent=1)
print(f"{'':28}{'WebSocket':>22}{'raw TCP':>22}")
for mode_key in ("time_to_open_all_s", "failed", "connect_p99_ms"):
  print(f"connect {mode_key:20}{str(fig['connect']['ws'][mode_key]):>22}{str(fig['connect']['raw'][mode_key]):>22}")
for rate in rates:
  for k in ("round_trips_per_s", "p99_ms", "cpu_s_per_million"):
    w, r = fig["echo"][rate]["ws"][k], fig["echo"][rate]["raw"][k]
    print(f"echo {rate:>7}/s {k:18}{w:>22.2f}{r:>22.2f}")
print(f"written {out}")
PY
