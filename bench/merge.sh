#!/usr/bin/env bash
# horde merge benchmark: one real run of N connections (default 100,000)
# against a separate `horde serve`, made the 10 workers' files of one plan
# (the contract's "worker" object added, with each worker started a few
# hundred ms apart so the series really shift), then
# `horde merge` of the 10 under /usr/bin/time -v: wall time and max RSS.
# Prints figures; never passes or fails on them.
#
#   bench/merge.sh [connections=100000] [workers=10] [duration_s=15]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
n=${1:-100000}
workers=${2:-10}
duration=${3:-15}

start_server --max-connections "$n"
"$horde" run "$url" --leave-for-target 0 -c "$n" --connect-rate 40000/s --duration "${duration}s" \
  --rate 6/m --json "$tmp/run.json" --quiet | tail -3 || true
[ -s "$tmp/run.json" ] || { echo "merge.sh: the run wrote no JSON" >&2; exit 1; }
stop_server

python3 - "$tmp/run.json" "$workers" "$tmp" <<'PY'
import copy, json, sys
run = json.load(open(sys.argv[1])); n = int(sys.argv[2]); tmp = sys.argv[3]
whole = dict(run["plan"])
whole["connections"] = run["plan"]["connections"] * n
whole["connect_rate"] = run["plan"]["connect_rate"] * n
whole["targets"] = [run["target"]]
start = run.get("started_unix_ns", 0)
for i in range(n):
    w = copy.deepcopy(run)
    w["worker"] = {"index": i, "count": n, "host": f"node-{i}", "start_at_unix_ns": start,
                   "clock_offset_ns": i * 137_000_000, "whole_plan": whole}
    json.dump(w, open(f"{tmp}/w{i}.json", "w"), indent=1)
PY
size=$(du -b "$tmp/w0.json" | cut -f1)
/usr/bin/time -v "$horde" merge "$tmp"/w*.json -o "$tmp/all.json" >"$tmp/merge.out" 2>"$tmp/time.txt" || true
wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$tmp/time.txt")
rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$tmp/time.txt")
user=$(sed -n 's/.*User time (seconds): //p' "$tmp/time.txt")
echo "merge: $workers files of a $n-connection run ($size bytes each)"
echo "  wall $wall, user ${user} s, max RSS ${rss} KiB"
echo "  merged: $(python3 -c "import json,sys; m=json.load(open(sys.argv[1])); print(m['connections']['opened'], 'opened,', m['latency']['round_trip']['count'], 'round trips,', len(m['series']), 'series points')" "$tmp/all.json")"
sed -n '1,12p' "$tmp/merge.out"
