#!/usr/bin/env bash
# Pub/sub benchmarks against a separate `horde serve` (so each side's memory
# is measured on its own). Prints figures and writes bench/results/pubsub-*.json;
# never passes or fails on them.
#
#   bench/pubsub.sh setup     [connections=100000] [groups=3000000] [per_connection=30]
#       Opens the connections and subscribes each to per_connection groups, then
#       the same without groups: time to subscribe all, and horde's and the
#       server's memory per subscription (the difference of the two runs).
#   bench/pubsub.sh ladder    [connections=10000] [groups=100000] [per_connection=10] [rates]
#       Publishing to random groups at each total rate in turn (default
#       "10000 30000 100000"): deliveries/s, fan-out p50/p99 (to each subscriber
#       and to the last of each publish), lost, duplicated.
#   bench/pubsub.sh broadcast [subscribers=10000] [publish_rate=100]
#       One group, every connection subscribed, one publisher: deliveries/s
#       and fan-out latency, to each subscriber and to the last one of each publish.
#
# Env: HORDE (binary), DURATION, PUBSUB_ARGS (extra `horde run` flags for
# ladder and broadcast, e.g. "--publish-binary --drain 10s").
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
mode=${1:-setup}
shift || true
rss() { awk '/VmRSS/{print $2*1024}' "/proc/$1/status"; }
# Samples the server's RSS every 0.5 s into $1 until the run ends.
sample_server() { while kill -0 "$server_pid" 2>/dev/null; do rss "$server_pid" >>"$1" || true; sleep 0.5; done; }

case "$mode" in
setup)
  n=${1:-100000}; groups=${2:-3000000}; k=${3:-30}
  for variant in groups plain; do
    start_server --max-connections "$n"
    before=$(rss "$server_pid")
    : >"$tmp/server_rss_$variant"
    sample_server "$tmp/server_rss_$variant" &
    sampler=$!
    extra=()
    [ "$variant" = groups ] && extra=(--groups "$groups" --subscriptions "$k" --subscribe-timeout 60s)
    "$horde" run "$url" --leave-for-target 0 -c "$n" --connect-rate 40k/s --duration "${DURATION:-45s}" --rate 0 "${extra[@]}" \
      --json "$tmp/run_$variant.json" --quiet | tee "$tmp/run_$variant.txt"
    stop_server; wait "$sampler" 2>/dev/null || true
    echo "$before" >"$tmp/server_before_$variant"
  done
  python3 - "$tmp" "$n" "$groups" "$k" "$out_dir/pubsub-setup-$n-$groups-$k.json" <<'PY'
import json, sys
tmp, n, groups, k, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
def load(v): return json.load(open(f"{tmp}/run_{v}.json"))
def server_growth(v):
  before = int(open(f"{tmp}/server_before_{v}").read())
  peak = max(int(x) for x in open(f"{tmp}/server_rss_{v}").read().split())
  return peak - before
g, p = load("groups"), load("plain")
subs = g["pubsub"]["subscribes_in_force"]
opened_at = next((s["t"] for s in g["series"] if s["opened"] >= n), None)
horde_g = g["self"]["rss_at_peak_open"] - g["self"]["rss_before_connections"]
horde_p = p["self"]["rss_at_peak_open"] - p["self"]["rss_before_connections"]
fig = {
  "benchmark": "pubsub-setup", "environment": g["environment"],
  "connections": n, "groups": groups, "per_connection": k,
  "opened": g["connections"]["opened"], "failed": g["connections"]["failed"],
  "subscriptions_in_force": subs, "not_acknowledged": g["pubsub"]["subscribes_not_acknowledged"],
  "all_open_at_s": opened_at, "all_subscribed_at_s": g["pubsub"]["publish_start_seconds"],
  "subscribe_p50_ms": g["pubsub"]["subscribe_latency"]["percentiles_ns"]["p50"] / 1e6,
  "subscribe_p99_ms": g["pubsub"]["subscribe_latency"]["percentiles_ns"]["p99"] / 1e6,
  "horde_rss_growth_with_groups": horde_g, "horde_rss_growth_plain": horde_p,
  "horde_bytes_per_subscription": (horde_g - horde_p) / max(1, subs),
  "server_rss_growth_with_groups": server_growth("groups"), "server_rss_growth_plain": server_growth("plain"),
  "server_bytes_per_subscription": (server_growth("groups") - server_growth("plain")) / max(1, subs),
}
json.dump(fig, open(out, "w"), indent=1)
for key, v in fig.items():
  if key != "environment": print(f"{key:34} {v}")
print(f"written {out}")
PY
  ;;
ladder)
  n=${1:-10000}; groups=${2:-100000}; k=${3:-10}; rates=${4:-"10000 30000 100000"}
  for rate in $rates; do
    start_server --max-connections "$n"
    "$horde" run "$url" --leave-for-target 0 -c "$n" --connect-rate 40k/s --duration "${DURATION:-12s}" --groups "$groups" \
      --subscriptions "$k" --publishers 1% --total-rate "${rate}/s" ${PUBSUB_ARGS:-} --json "$tmp/ladder_$rate.json" --quiet \
      >"$tmp/ladder_$rate.txt"
    stop_server
    python3 - "$tmp/ladder_$rate.json" "$rate" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); p = r["pubsub"]
window = r["plan"]["duration_seconds"] - p["publish_start_seconds"] if p["publish_start_seconds"] >= 0 else 0
f = p["fanout_latency"]["percentiles_ns"]
last = p["fanout_last_latency"]["percentiles_ns"]
print(f"publish rate asked {sys.argv[2]:>7}/s: publishes/s {p['publishes']/max(window,1e-9):9.0f}  "
      f"deliveries/s {p['deliveries_received']/max(window,1e-9):10.0f}  fan-out p50 {f['p50']/1e6:.2f} ms  "
      f"p99 {f['p99']/1e6:.2f} ms  last subscriber p50 {last['p50']/1e6:.2f} ms p99 {last['p99']/1e6:.2f} ms "
      f"(of {p['last_subscriber_timed']} timed)  lost {p['lost']}  duplicated {p['duplicated']}  "
      f"expected {p['expected']}  schedule kept {r['self']['schedule_kept']}  "
      f"horde CPU {r['self']['cpu_user_seconds']+r['self']['cpu_system_seconds']:.1f} s")
PY
  done
  ;;
broadcast)
  n=${1:-10000}; rate=${2:-100}
  start_server --max-connections "$n"
  "$horde" run "$url" --leave-for-target 0 -c "$n" --connect-rate 40k/s --duration "${DURATION:-12s}" --groups 1 --subscriptions 1 \
    --publishers 1 --rate "${rate}/s" ${PUBSUB_ARGS:-} --json "$tmp/broadcast.json" --quiet >"$tmp/broadcast.txt"
  stop_server
  python3 - "$tmp/broadcast.json" "$out_dir/pubsub-broadcast-$n.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); p = r["pubsub"]
window = r["plan"]["duration_seconds"] - p["publish_start_seconds"]
f = p["fanout_latency"]
fig = {"benchmark": "pubsub-broadcast", "environment": r["environment"], "subscribers": p["subscribes_in_force"],
       "publishes": p["publishes"], "expected": p["expected"], "delivered": p["delivered"], "lost": p["lost"],
       "duplicated": p["duplicated"], "deliveries_per_s": p["deliveries_received"] / window,
       "fanout_p50_ms": f["percentiles_ns"]["p50"] / 1e6, "fanout_p99_ms": f["percentiles_ns"]["p99"] / 1e6,
       "to_last_subscriber_p50_ms": p["fanout_last_latency"]["percentiles_ns"]["p50"] / 1e6,
       "to_last_subscriber_p99_ms": p["fanout_last_latency"]["percentiles_ns"]["p99"] / 1e6,
       "to_last_subscriber_max_ms": p["fanout_last_latency"]["max_ns"] / 1e6,
       "publishes_timed_to_last": p["last_subscriber_timed"]}
json.dump(fig, open(sys.argv[2], "w"), indent=1)
for key, v in fig.items():
  if key != "environment": print(f"{key:28} {v}")
PY
  ;;
*) echo "usage: bench/pubsub.sh setup|ladder|broadcast [...]" >&2; exit 2 ;;
esac
