#!/usr/bin/env bash
# GraphQL subscriptions over graphql-transport-ws (`--protocol graphql-ws`)
# beside bare WebSocket, in one sitting, against the same Node process kind:
# tests/peers/graphql_server.js (npm's graphql-ws executing with npm's
# graphql), and the same script with --plain (horde's reference pub/sub
# protocol on the same `ws` library, no GraphQL). The load is the same for
# both: a pub/sub layout, publishers at a rate, every delivery timed from its
# publish. Prints a table and writes bench/results/protocol-graphql-ws.json;
# never passes or fails on the figures.
#
#   bench/protocol_graphql_ws.sh [connections=1000] [groups=100] [per_connection=1]
#                                [publishers=100] [rate=10/s]
#
# Figures per protocol: connections opened and the protocol's handshake
# (connection_ack) p50/p99; subscriptions in force; publishes and deliveries
# per second; fan-out latency p50/p99/max; lost; horde's CPU per million
# deliveries; the server's CPU seconds.
#
# Env: HORDE (binary), DURATION (default 10s), SETTLE (default 1s).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
n=${1:-1000}; groups=${2:-100}; k=${3:-1}; publishers=${4:-100}; rate=${5:-10/s}
peer=$here/../tests/peers/graphql_server.js
[ -f "$here/../tests/peers/node_modules/graphql-ws/package.json" ] ||
  { echo "graphql-ws is not installed: (cd tests/peers && npm ci)" >&2; exit 1; }

peer_pid=
# The peer exits when its stdin closes: fd 9 holds a fifo to it open.
stop_peer() {
  exec 9>&- || true
  if [ -n "$peer_pid" ]; then kill "$peer_pid" 2>/dev/null || true; wait "$peer_pid" 2>/dev/null || true; fi
  peer_pid=
}
trap 'stop_peer; stop_server; rm -rf "$tmp"' EXIT
cpu_seconds() { awk '{print ($14 + $15) / 100}' "/proc/$1/stat"; }

for variant in plain graphql; do
  flags=(); proto=()
  [ "$variant" = plain ] && flags=(--plain)
  [ "$variant" = graphql ] && proto=(--protocol graphql-ws)
  mkfifo "$tmp/in_$variant"
  node "$peer" "${flags[@]}" <"$tmp/in_$variant" >"$tmp/peer_$variant.out" 2>"$tmp/peer_$variant.err" &
  peer_pid=$!
  exec 9>"$tmp/in_$variant"
  for _ in $(seq 50); do [ -s "$tmp/peer_$variant.out" ] && break; sleep 0.1; done
  port=$(head -1 "$tmp/peer_$variant.out")
  [ -n "$port" ] || { echo "graphql_server.js did not start: $(cat "$tmp/peer_$variant.err")" >&2; exit 1; }
  cpu_before=$(cpu_seconds "$peer_pid")
  "$horde" run "ws://127.0.0.1:$port/" "${proto[@]}" -c "$n" --connect-rate 2000/s \
    --groups "$groups" --subscriptions "$k" --publishers "$publishers" --rate "$rate" \
    --settle "${SETTLE:-1s}" --duration "${DURATION:-10s}" \
    --json "$tmp/run_$variant.json" --quiet >"$tmp/run_$variant.txt" 2>&1 || true
  cpu_after=$(cpu_seconds "$peer_pid")
  echo "$cpu_before $cpu_after" >"$tmp/server_cpu_$variant"
  stop_peer
done

python3 - "$tmp" "$out_dir/protocol-graphql-ws.json" "$n" "$groups" "$k" "$publishers" "$rate" <<'PY'
import json, sys
tmp, out = sys.argv[1], sys.argv[2]
layout = dict(zip(["connections", "groups", "per_connection", "publishers", "rate"], sys.argv[3:]))
rows = {}
for v in ("plain", "graphql"):
    r = json.load(open(f"{tmp}/run_{v}.json"))
    p, c = r["pubsub"], r["connections"]
    before, after = map(float, open(f"{tmp}/server_cpu_{v}").read().split())
    pub_s = max(r["plan"]["duration_seconds"] - (p.get("publish_start_seconds") or 0), 1e-9)
    def pct(h, q):
        v = h.get("percentiles_ns", {}).get(q)
        return None if v is None else v / 1e6
    ack = r.get("scenario", {}).get("latency", {}).get("protocol.graphql-ws.ack", {})
    self_ = r["self"]
    cpu = self_["cpu_user_seconds"] + self_["cpu_system_seconds"]
    rows[v] = {
        "opened": c["opened"], "failed": c["failed"],
        "handshake_p50_ms": pct(ack, "p50"), "handshake_p99_ms": pct(ack, "p99"),
        "subscriptions": p["subscribes_in_force"], "publishes": p["publishes"],
        "publishes_per_s": p["publishes"] / pub_s,
        "deliveries": p["deliveries_received"], "deliveries_per_s": p["deliveries_received"] / pub_s,
        "lost": p["lost"],
        "fanout_p50_ms": pct(p["fanout_latency"], "p50"),
        "fanout_p99_ms": pct(p["fanout_latency"], "p99"),
        "fanout_max_ms": (p["fanout_latency"].get("max_ns") or 0) / 1e6,
        "horde_cpu_s": cpu,
        "horde_cpu_s_per_million_deliveries": cpu / max(p["deliveries_received"], 1) * 1e6,
        "server_cpu_s": after - before,
    }
fig = {"benchmark": "protocol-graphql-ws", "environment": r["environment"], "layout": layout, "rows": rows}
json.dump(fig, open(out, "w"), indent=2)
def f(x, nd=2):
    return "-" if x is None else (f"{x:.{nd}f}" if isinstance(x, float) else str(x))
keys = list(rows["plain"].keys())
print(f"{'figure':36} {'plain ws':>14} {'graphql-ws':>14}")
for k in keys:
    print(f"{k:36} {f(rows['plain'][k]):>14} {f(rows['graphql'][k]):>14}")
print(f"written: {out}")
PY
