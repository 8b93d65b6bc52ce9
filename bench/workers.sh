#!/usr/bin/env bash
# Workers benchmark: one plan of W x N connections run by W local worker
# processes (started as a Kubernetes Indexed Job starts them: the same
# flags, JOB_COMPLETION_INDEX=i, --workers W) against two `horde serve`
# targets, all told the same --start-at. Prints each worker's start skew
# (clock_offset_ns: its actual start minus the asked one) and the summed
# connection counts per target; writes bench/results/workers-W-N.json.
# Each worker binds its own loopback address (127.0.0.(i+1)) so the workers'
# port allocators never collide. Never passes or fails on a figure.
#
#   bench/workers.sh [workers=4] [connections_per_worker=25000] [hold_seconds=20]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
w=${1:-4}
per=${2:-25000}
hold=${3:-20}
n=$(( w * per ))

start_server --max-connections $(( n / 2 + 1000 ))
url_a=$url
a_pid=$server_pid
"$horde" serve --max-connections $(( n / 2 + 1000 )) --listen 127.0.0.1:0 >"$tmp/serve2.out" 2>&1 &
b_pid=$!
trap 'kill $b_pid 2>/dev/null || true; stop_server; rm -rf "$tmp"' EXIT
for _ in $(seq 50); do grep -q listening "$tmp/serve2.out" 2>/dev/null && break; sleep 0.1; done
url_b=$(sed -n 's/^listening \(ws:[^ ]*\).*/\1/p' "$tmp/serve2.out")

start_at=@$(( $(date +%s) + 5 ))
command=("$horde" run "$url_a" "$url_b" -c "$n" --connect-rate 20000/s --duration "${hold}s" --rate 0
         --leave-for-target 0 --workers "$w" --start-at "$start_at" --quiet)
echo "command (each worker): JOB_COMPLETION_INDEX=i ${command[*]} --source-ips 127.0.0.(i+1) --json W-i.json"
pids=()
for i in $(seq 0 $(( w - 1 ))); do
  JOB_COMPLETION_INDEX=$i "${command[@]}" --source-ips "127.0.0.$(( i + 1 ))" \
    --json "$tmp/w$i.json" >"$tmp/w$i.txt" 2>&1 &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || true; done
python3 - "$tmp" "$w" "$out_dir/workers-$w-$per.json" <<'PY'
import json, sys
tmp, w, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
results = [json.load(open(f"{tmp}/w{i}.json")) for i in range(w)]
offsets = [r["worker"]["clock_offset_ns"] for r in results]
for r in results:
    k = r["worker"]
    print(f"worker {k['index']}: clock_offset {k['clock_offset_ns'] / 1e6:.3f} ms, "
          f"opened {r['connections']['opened']} of {r['plan']['connections']}")
print(f"start skew (max - min offset): {(max(offsets) - min(offsets)) / 1e6:.3f} ms; "
      f"latest start {max(offsets) / 1e6:.3f} ms after --start-at")
targets = {}
for r in results:
    for t in r.get("targets", []):
        targets[t["url"]] = targets.get(t["url"], 0) + t["connections"]["opened"]
total = sum(r["connections"]["opened"] for r in results)
print(f"opened {total} of {results[0]['worker']['whole_plan']['connections']}; per target {targets}")
json.dump({"workers": w, "clock_offsets_ns": offsets, "opened": total, "per_target": targets},
          open(out, "w"), indent=1)
PY
