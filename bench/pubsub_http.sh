#!/usr/bin/env bash
# Publishing over HTTP (--publish-http, docs/pubsub.md), the same load side
# by side against the aiohttp broadcast peer
# (tests/peers/aiohttp_broadcast_server.py) and against horde's own server
# (`horde serve`, POST /publish/{group}): subscribers on WebSocket,
# publishes by POST from a few HTTP publisher connections. Prints, per
# server, publishes/s achieved, HTTP latency p50/p99, fan-out p50/p99 and
# loss; writes bench/results/pubsub-http-*.json. Never passes or fails on
# the figures.
#
#   bench/pubsub_http.sh [subscribers=10000] [groups=1000] [publishers=8] [total_rate=2000]
#
# SERVERS (default "aiohttp serve") picks which to run.
#
# Env: HORDE (binary), PYTHON (default /usr/bin/python3, which has aiohttp),
# DURATION (default 40s: a single-threaded Python server takes 10k
# WebSockets slowly), CONNECT_RATE (default 1000/s), PUBSUB_ARGS (extra `horde run` flags).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
n=${1:-10000}; groups=${2:-1000}; publishers=${3:-8}; rate=${4:-2000}
python=${PYTHON:-/usr/bin/python3}

summary() {
  "$python" - "$1" "$2" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
p = r["pubsub"]; h = p["publish_http"]
ms = lambda hist, q: hist.get("percentiles_ns", {}).get(q, 0) / 1e6
window = r["plan"]["duration_seconds"] - max(p["publish_start_seconds"], 0)
print(f"[{sys.argv[2]}] publishes {p['publishes']} ({p['publishes'] / window:.0f}/s over {window:.1f} s), "
      f"ok {h['ok']} refused {h['refused']} no answer {h['no_answer']} reconnects {h['reconnects']}")
print(f"[{sys.argv[2]}] HTTP latency p50 {ms(h['latency'], 'p50'):.2f} ms p99 {ms(h['latency'], 'p99'):.2f} ms; "
      f"fan-out p50 {ms(p['fanout_latency'], 'p50'):.2f} ms p99 {ms(p['fanout_latency'], 'p99'):.2f} ms; "
      f"last subscriber p99 {ms(p['fanout_last_latency'], 'p99'):.2f} ms")
print(f"[{sys.argv[2]}] expected {p['expected']} delivered {p['delivered']} lost {p['lost']} duplicated {p['duplicated']}")
PY
}

# run_load NAME WS_URL PUBLISH_URL [horde run flags...]
run_load() {
  local name=$1 ws=$2 publish=$3; shift 3
  local json="$out_dir/pubsub-http-$name-$n-$groups-$publishers-$rate.json"
  "$horde" run "$ws" -c "$n" --connect-rate "${CONNECT_RATE:-1000/s}" --groups "$groups" \
    --subscriptions 1 --publishers "$publishers" --total-rate "$rate/s" --duration "${DURATION:-40s}" \
    --subscribe-timeout 60s --publish-http "POST $publish" "$@" \
    ${PUBSUB_ARGS:-} --json "$json" --quiet >"$tmp/run-$name.txt" || true
  summary "$json" "$name"
}

for server in ${SERVERS:-aiohttp serve}; do
  case $server in
    aiohttp)
      # The peer prints its WebSocket port, then its REST port; it exits
      # when its stdin (a fifo held open here) closes.
      mkfifo "$tmp/peer_in"
      "$python" "$here/../tests/peers/aiohttp_broadcast_server.py" <"$tmp/peer_in" >"$tmp/peer.out" 2>"$tmp/peer.err" &
      peer_pid=$!
      exec 9>"$tmp/peer_in"
      for _ in $(seq 100); do [ "$(wc -l <"$tmp/peer.out")" -ge 2 ] && break; sleep 0.1; done
      ws_port=$(sed -n 1p "$tmp/peer.out"); rest_port=$(sed -n 2p "$tmp/peer.out")
      [ -n "$rest_port" ] || { echo "the aiohttp peer did not start: $(cat "$tmp/peer.err")" >&2; exit 1; }
      run_load aiohttp "ws://127.0.0.1:$ws_port/ws" "http://127.0.0.1:$rest_port/publish/{group}" \
        --subscribe-template '{"op":"sub","group":"{group}"}' \
        --subscribe-ack '{"op":"subscribed","group":"{group}"}'
      exec 9>&-
      wait "$peer_pid" 2>/dev/null || true
      rm -f "$tmp/peer_in" ;;
    serve)
      # horde's own server, on the same host: subscribers and HTTP publishes
      # on one port, its reference protocol.
      start_server --shards "${SERVE_SHARDS:-1}"
      port=${url##*:}; port=${port%/}
      run_load serve "$url" "http://127.0.0.1:$port/publish/{group}"
      stop_server ;;
  esac
done
