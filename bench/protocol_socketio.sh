#!/usr/bin/env bash
# --protocol socketio against the official socket.io server (npm, Node,
# tests/peers/socketio_server.js), side by side with plain WebSocket against
# Node's `ws` (tests/peers/node_ws_server.js) in the same sitting. Each
# server runs on CPU 1 and horde on CPU 0. Prints figures and writes
# bench/results/protocol-socketio-<part>.json; never passes or fails on them.
#
#   cpu   horde's own CPU-seconds per million messages, alternating runs at
#         one total rate: the stamped echo over plain ws and over Socket.IO
#         (plain messages, 42["message",...]), and request/response over
#         plain ws (a JSON id echoed back) and over Socket.IO (an emit with an
#         acknowledgement, 42<id>[...] -> 43<id>[...]).
#   hold  N connections opened to the socket.io server and held with its
#         keep-alive (PING_INTERVAL ms, default 25000, as socket.io ships):
#         opened and failed (and why), the connect ramp, pongs and their
#         delay, horde's and Node's memory per connection, Node's CPU. The
#         single-threaded Node server is the limit here, not horde: the
#         figures say where it broke.
#
#   bench/protocol_socketio.sh [parts="cpu hold"] [connections=100000]
# Env: RATE (cpu: total messages/s, default 10000), CPU_CONNECTIONS (1000),
#      ROUNDS (3), SECONDS_PER_RUN (10), CONNECT_RATE (hold, 2000/s),
#      HOLD (hold seconds after the ramp, 60), PING_INTERVAL, PING_TIMEOUT,
#      NODE_CPUS (the peer's CPUs, 1; e.g. 0-1 to share horde's too),
#      UPGRADE_TIMEOUT (hold: horde's --upgrade-timeout, 10s).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
parts=${1:-"cpu hold"}
n=${2:-100000}
rate=${RATE:-10000}
cpu_connections=${CPU_CONNECTIONS:-1000}
rounds=${ROUNDS:-3}
seconds=${SECONDS_PER_RUN:-10}
peers=$here/../tests/peers
[ -d "$peers/node_modules/socket.io" ] || { echo "needs: (cd tests/peers && npm ci)" >&2; exit 2; }

# Node keeps the shell's descriptor limit; where it can be raised, raise it
# (each worker then holds more; WORKERS says how many).
ulimit -n $((n + 10000)) 2>/dev/null || true

node_pid=
# start_node SCRIPT [flags...]: the peer on CPU 1 (NODE_CPUS); sets node_pid and port.
start_node() {
  local script=$1
  shift
  mkfifo "$tmp/node_in" 2>/dev/null || true
  taskset -c "${NODE_CPUS:-1}" node --max-old-space-size=16384 "$peers/$script" "$@" <"$tmp/node_in" >"$tmp/node.out" &
  node_pid=$!
  exec 7>"$tmp/node_in"  # the peer exits when this closes
  for _ in $(seq 100); do [ -s "$tmp/node.out" ] && break; sleep 0.1; done
  port=$(head -1 "$tmp/node.out")
  [ -n "$port" ] || { echo "$script did not start" >&2; exit 1; }
}
stop_node() {
  [ -n "$node_pid" ] || return 0
  exec 7>&-
  wait "$node_pid" 2>/dev/null || true
  node_pid=
}
trap 'stop_node; stop_server; rm -rf "$tmp"' EXIT

figure() { python3 -c "import json,sys; j=json.load(open('$1')); print($2)"; }
cpu_per_million() { figure "$1" "round(j['self']['cpu_seconds_per_million_messages'] or 0, 3)"; }

# one_run NAME SCRIPT [horde flags...]: a run against a fresh peer.
one_run() {
  local name=$1 script=$2
  shift 2
  start_node "$script"
  "$horde" run "ws://127.0.0.1:$port/" -c "$cpu_connections" --connect-rate 5000/s \
    -d "${seconds}s" --total-rate "$rate/s" --cpus 0 -q --json "$tmp/$name.json" "$@" \
    >/dev/null 2>&1 || true
  stop_node
}

run_cpu() {
  echo "cpu: $cpu_connections connections, $rate messages/s in all, ${seconds} s a run, $rounds rounds"
  local -A sum=()
  local kinds="ws_echo sio_echo ws_request sio_ack"
  for k in $kinds; do sum[$k]=0; done
  for _ in $(seq "$rounds"); do
    one_run ws_echo node_ws_server.js --text --size 64
    one_run sio_echo socketio_server.js --protocol socketio --text --size 64
    one_run ws_request node_ws_server.js --request '{"id":{seq},"args":["n{seq}"]}'
    one_run sio_ack socketio_server.js --protocol socketio --request '42{seq}["echo","n{seq}"]' \
      --match /ack
    for k in $kinds; do sum[$k]=$(python3 -c "print(${sum[$k]} + $(cpu_per_million "$tmp/$k.json"))"); done
  done
  python3 - "$tmp" "$rounds" "$out_dir/protocol-socketio-cpu.json" \
    "${sum[ws_echo]}" "${sum[sio_echo]}" "${sum[ws_request]}" "${sum[sio_ack]}" <<'PY'
import json, sys
tmp, rounds, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
ws_echo, sio_echo, ws_req, sio_ack = (float(x) / rounds for x in sys.argv[4:8])
def load(k): return json.load(open(f"{tmp}/{k}.json"))
def p50(j, path):
  for key in path: j = j[key]
  return j["percentiles_ns"]["p50"] / 1e6
last = {k: load(k) for k in ("ws_echo", "sio_echo", "ws_request", "sio_ack")}
fig = {
  "benchmark": "protocol-socketio-cpu", "environment": last["sio_echo"]["environment"],
  "cpu_seconds_per_million": {"ws_echo": ws_echo, "socketio_echo": sio_echo,
                              "ws_request": ws_req, "socketio_ack": sio_ack},
  "socketio_over_ws": {"echo": sio_echo / ws_echo if ws_echo else None,
                       "request": sio_ack / ws_req if ws_req else None},
  "last_round": {k: {"sent": j["messages"]["sent"], "failed": j["connections"]["failed"]}
                 for k, j in last.items()},
  "p50_ms_last_round": {"ws_echo": p50(last["ws_echo"], ["latency", "round_trip"]),
                        "socketio_echo": p50(last["sio_echo"], ["latency", "round_trip"]),
                        "ws_request": p50(last["ws_request"], ["scenario", "latency", "request.request0"]),
                        "socketio_ack": p50(last["sio_ack"], ["scenario", "latency", "request.request0"])},
}
json.dump(fig, open(out, "w"), indent=1)
print(f"  {'':14} {'ws':>10} {'socket.io':>10} {'ratio':>7}   (horde CPU-seconds per million messages)")
for label, a, b in (("echo", ws_echo, sio_echo), ("request/ack", ws_req, sio_ack)):
  print(f"  {label:14} {a:10.3f} {b:10.3f} {b / a if a else float('nan'):7.2f}")
print(f"  p50 ms (last round): {fig['p50_ms_last_round']}")
print(f"  sent (last round): {fig['last_round']}")
print(f"written {out}")
PY
}

# The Node server's processes (the primary and its cluster workers): summed
# RSS in bytes, and CPU in clock ticks.
node_tree() { echo "$node_pid"; pgrep -P "$node_pid" || true; }
node_rss() { for p in $(node_tree); do awk '/VmRSS/{print $2*1024}' "/proc/$p/status" 2>/dev/null; done | awk '{s+=$1} END{print s+0}'; }
node_cpu() { for p in $(node_tree); do awk '{print $14+$15}' "/proc/$p/stat" 2>/dev/null; done | awk '{s+=$1} END{print s+0}'; }

run_hold() {
  local connect_rate=${CONNECT_RATE:-2000} hold=${HOLD:-60}
  # One Node process holds what its descriptor limit allows: enough workers
  # for n at 15,000 each (the limit here is 20,000, and not raisable).
  local workers=${WORKERS:-$(((n + 14999) / 15000))}
  local ramp=$(((n + connect_rate - 1) / connect_rate))
  local duration=$((ramp + hold))
  start_node socketio_server.js --ping-interval "${PING_INTERVAL:-25000}" \
    --ping-timeout "${PING_TIMEOUT:-20000}" --workers "$workers"
  sleep 1  # the workers' own start
  local node_rss_before node_cpu_before
  node_rss_before=$(node_rss)
  node_cpu_before=$(node_cpu)
  ( # the Node server's RSS and CPU near the end of the hold, everything open
    sleep $((duration - 2))
    node_rss >"$tmp/node_rss_held"
    node_cpu >"$tmp/node_cpu_held"
  ) &
  local sampler=$!
  echo "hold: $n connections at $connect_rate/s to $workers Node workers, then ${hold} s held (ping every ${PING_INTERVAL:-25000} ms)"
  "$horde" run "ws://127.0.0.1:$port/" --protocol socketio -c "$n" --connect-rate "${connect_rate}/s" \
    --listen-only -d "${duration}s" --cpus 0 --upgrade-timeout "${UPGRADE_TIMEOUT:-10s}" \
    --json "$tmp/hold.json" --quiet | tail -25 || true
  wait "$sampler" || true
  stop_node
  python3 - "$tmp/hold.json" "$node_rss_before" "$(cat "$tmp/node_rss_held" 2>/dev/null || echo 0)" \
    "$node_cpu_before" "$(cat "$tmp/node_cpu_held" 2>/dev/null || echo 0)" "$(getconf CLK_TCK)" \
    "$out_dir/protocol-socketio-hold-$n.json" <<'PY'
import json, sys
run = json.load(open(sys.argv[1]))
rss_before, rss_held, cpu_before, cpu_held, tck = (int(x) for x in sys.argv[2:7])
out = sys.argv[7]
c, s = run["connections"], run["self"]
counters, latency = run["scenario"]["counters"], run["scenario"]["latency"]
def pct(h, p): return latency[h]["percentiles_ns"].get(p, 0) / 1e6 if h in latency else None
full = next((p["t"] for p in run["series"] if p["opened"] >= run["plan"]["connections"]), None)
fig = {
  "benchmark": "protocol-socketio-hold", "environment": run["environment"],
  "connections_asked": run["plan"]["connections"], "opened": c["opened"], "peak_open": c["peak_open"],
  "failed": c["failed"], "failures": {k: v for k, v in c["failures"].items() if v},
  "time_to_open_all_s": full,
  "handshakes": counters.get("protocol.socketio.handshakes"),
  "handshake_p50_ms": pct("protocol.socketio.handshake", "p50"),
  "handshake_p99_ms": pct("protocol.socketio.handshake", "p99"),
  "pongs": counters.get("protocol.socketio.pongs"),
  "pong_delay_p99_ms": pct("protocol.socketio.pong_delay", "p99"),
  "pong_delay_max_ms": latency.get("protocol.socketio.pong_delay", {}).get("max_ns", 0) / 1e6,
  "server_silent": counters.get("protocol.socketio.server_silent"),
  "horde_rss_per_connection_bytes": (s["rss_at_peak_open"] - s["rss_before_connections"]) / max(1, s["open_at_rss_sample"]),
  "horde_cpu_seconds": s["cpu_user_seconds"] + s["cpu_system_seconds"],
  "node_rss_per_connection_bytes": (rss_held - rss_before) / max(1, c["peak_open"]) if rss_held else None,
  "node_cpu_seconds": (cpu_held - cpu_before) / tck if cpu_held else None,
}
json.dump(fig, open(out, "w"), indent=1)
for k, v in fig.items():
  if k != "environment": print(f"  {k:32} {v}")
print(f"written {out}")
PY
}

for part in $parts; do
  case "$part" in
  cpu) run_cpu ;;
  hold) run_hold ;;
  *) echo "unknown part: $part (cpu, hold)" >&2; exit 2 ;;
  esac
done
