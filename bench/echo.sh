#!/usr/bin/env bash
# Echo-rate benchmark: 1,000 connections to a separate `horde serve`, 64-byte
# messages, the total rate stepped up until horde reports it could not keep
# its schedule (or echoes went missing). Per step: achieved round trips/s,
# p50/p99, horde's own CPU-seconds per million round trips. Writes
# bench/results/echo.json. Prints figures; never passes or fails on them.
#
#   bench/echo.sh [connections=1000] [step_seconds=8] [rates="50000 100000 150000 200000 250000"]
#
# PLACEMENT=split (default): the server gets the upper half of the CPUs and
# horde the lower half, so neither preempts the other (the way a generator
# and its target run on dedicated cores). On 2 vCPUs this took p99 at 75k/s
# from 8.5 ms (shared) to 2.7 ms, and p50 from 0.21 to 0.06 ms.
# PLACEMENT=shared: server and horde each use every CPU.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
conns=${1:-1000}
step=${2:-8}
rates=${3:-"50000 100000 150000 200000 250000 300000"}

serve_cpus=() run_cpus=()
ncpu=$(nproc)
if [ "${PLACEMENT:-split}" = split ] && [ "$ncpu" -ge 2 ]; then
  half=$((ncpu / 2))
  serve_cpus=(--cpus "$half-$((ncpu - 1))")
  run_cpus=(--cpus "0-$((half - 1))")
fi
start_server --max-connections "$conns" "${serve_cpus[@]}"

for rate in $rates; do
  "$horde" run "$url" -c "$conns" --connect-rate 0 --total-rate "${rate}/s" --size 64 \
    --duration "${step}s" --json "$tmp/echo-$rate.json" --quiet "${run_cpus[@]}" >/dev/null
  python3 - "$tmp/echo-$rate.json" "$rate" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); rate = int(sys.argv[2])
m = r["messages"]; s = r["self"]; rt = r["latency"]["round_trip"]["percentiles_ns"]
cpu = s["cpu_user_seconds"] + s["cpu_system_seconds"]
print(f"asked {rate:>7}/s  got {m['answered']/r['elapsed_seconds']:>9.0f} rt/s  p50 {rt['p50']/1e6:7.3f} ms  "
      f"p99 {rt['p99']/1e6:7.3f} ms  cpu/M {cpu/max(1,m['answered'])*1e6:5.2f} s  "
      f"lost {m['sent']-m['answered']}  schedule {'kept' if s['schedule_kept'] else 'NOT kept'}")
PY
  kept=$(python3 -c "import json,sys; r=json.load(open('$tmp/echo-$rate.json')); print(int(r['self']['schedule_kept'] and r['messages']['sent']==r['messages']['answered']))")
  [ "$kept" = 1 ] || break
done
python3 - "$tmp" "$out_dir/echo.json" <<'PY'
import glob, json, os, sys
steps = []
for path in sorted(glob.glob(os.path.join(sys.argv[1], "echo-*.json")), key=lambda p: int(p.split("-")[-1][:-5])):
  r = json.load(open(path)); m = r["messages"]; s = r["self"]; rt = r["latency"]["round_trip"]["percentiles_ns"]
  cpu = s["cpu_user_seconds"] + s["cpu_system_seconds"]
  steps.append({"asked_per_s": r["plan"]["message_rate_per_connection"] * r["plan"]["connections"],
                "round_trips_per_s": m["answered"] / r["elapsed_seconds"], "sent": m["sent"], "answered": m["answered"],
                "p50_ms": rt["p50"] / 1e6, "p99_ms": rt["p99"] / 1e6, "p999_ms": rt["p99.9"] / 1e6,
                "horde_cpu_s_per_million": cpu / max(1, m["answered"]) * 1e6,
                "schedule_kept": s["schedule_kept"], "schedule": s["schedule"], "environment": r["environment"]})
kept = [s for s in steps if s["schedule_kept"] and s["sent"] == s["answered"]]
best = max(kept, key=lambda s: s["round_trips_per_s"]) if kept else None
json.dump({"benchmark": "echo", "steps": steps, "highest_sustained_per_s": best and best["round_trips_per_s"]},
          open(sys.argv[2], "w"), indent=1)
print(f"highest sustained: {best and round(best['round_trips_per_s'])} round trips/s; written {sys.argv[2]}")
PY
