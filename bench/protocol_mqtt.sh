#!/usr/bin/env bash
# MQTT over WebSocket through a real broker (Mosquitto, Debian's), side by
# side with the same pub/sub load in plain WebSocket through `horde serve`,
# in one sitting. Prints figures and writes bench/results/protocol-mqtt-*.json;
# never passes or fails on them.
#
#   bench/protocol_mqtt.sh [connections=10000] [topics=1000] [rate=1]
#   bench/protocol_mqtt.sh echo [connections=1000] [rate=10]
#       C connections, each subscribed to one of T topics (groups), T
#       publishers (one per topic) publishing RATE/s each, for DURATION
#       (default 30s; the ramp at 1,000/s takes 10 s of it), then
#       a drain. Variants: mqtt QoS 0 (MQTT 3.1.1), mqtt QoS 1 (MQTT 5), plain
#       ws. For each: opened, subscribed, publishes, expected and delivered
#       deliveries, lost, fan-out p50/p99, PUBACK p50/p99 (QoS 1), and the
#       broker's own RSS per connection and CPU per million messages
#       (--target-pid).
#   echo: the default echo load (binary stamps, RATE/s per connection)
#       through each connection's own topic (echo-topic=), at QoS 0 (3.1.1)
#       and QoS 1 (5), beside plain ws echo against `horde serve` at the
#       same rate: sent, answered, round-trip p50/p99, horde's own CPU per
#       million round trips, the peer's CPU per million messages.
#
# Env: HORDE (binary), DURATION.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
mode=pubsub
if [ "${1:-}" = echo ]; then mode=echo; shift; fi
n=${1:-10000}; topics=${2:-1000}; rate=${3:-1}
duration=${DURATION:-30s}
broker_pid=

# Starts tests/peers/mosquitto_ws.py, its stdin held open on fd 3; sets url
# and broker_pid.
start_mosquitto() {
  mkfifo "$tmp/mq.in"
  /usr/bin/python3 "$here/../tests/peers/mosquitto_ws.py" <"$tmp/mq.in" >"$tmp/mq.out" &
  exec 3>"$tmp/mq.in"
  for _ in $(seq 100); do [ "$(wc -l <"$tmp/mq.out")" -ge 2 ] && break; sleep 0.1; done
  url="ws://127.0.0.1:$(sed -n 1p "$tmp/mq.out")/"
  broker_pid=$(sed -n 2p "$tmp/mq.out")
}
stop_mosquitto() { exec 3>&-; wait || true; rm -f "$tmp/mq.in" "$tmp/mq.out"; }

if [ "$mode" = echo ]; then
  n=${1:-1000}; rate=${2:-10}
  echo_args=(-c "$n" --rate "$rate/s" --duration "$duration" --connect-rate 1k/s --quiet)
  for variant in mqtt-qos0 mqtt-qos1 ws; do
    case "$variant" in
    mqtt-qos0) start_mosquitto
      "$horde" run "$url" --protocol mqtt "${echo_args[@]}" --target-pid "$broker_pid" \
        --json "$tmp/echo-$variant.json" || true
      stop_mosquitto ;;
    mqtt-qos1) start_mosquitto
      "$horde" run "$url" --protocol mqtt --protocol-option version=5 --protocol-option qos=1 \
        "${echo_args[@]}" --target-pid "$broker_pid" --json "$tmp/echo-$variant.json" || true
      stop_mosquitto ;;
    ws) start_server --max-connections "$n"
      "$horde" run "$url" "${echo_args[@]}" --target-pid "$server_pid" \
        --json "$tmp/echo-$variant.json" || true
      stop_server ;;
    esac
  done
  python3 - "$tmp" "$n" "$rate" "$out_dir/protocol-mqtt-echo-$n-$rate.json" <<'PY'
import json, sys
tmp, n, rate, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
rows = {}
for v in ["mqtt-qos0", "mqtt-qos1", "ws"]:
  r = json.load(open(f"{tmp}/echo-{v}.json"))
  m, s, t = r["messages"], r["self"], r.get("target_cost", {})
  rt = r["latency"]["round_trip"]
  c = r["scenario"]["counters"]
  cpu = s["cpu_user_seconds"] + s["cpu_system_seconds"]
  rows[v] = {
    "opened": r["connections"]["opened"], "failed": r["connections"]["failed"],
    "sent": m["sent"], "answered": m["answered"], "unanswered": m["unanswered"],
    "rtt_p50_ms": round(rt["percentiles_ns"]["p50"] / 1e6, 3) if rt["count"] else None,
    "rtt_p99_ms": round(rt["percentiles_ns"]["p99"] / 1e6, 3) if rt["count"] else None,
    "echo_suback_p99_ms": round(r["scenario"]["latency"]["protocol.mqtt.echo_suback"]
                                ["percentiles_ns"]["p99"] / 1e6, 3)
                          if "protocol.mqtt.echo_suback" in r["scenario"]["latency"] else None,
    "echo_held": c.get("protocol.mqtt.echo_held"),
    "horde_cpu_s_per_million": round(cpu / max(1, m["answered"]) * 1e6, 2),
    "horde_send_lag_p99_ms": round(r["latency"]["send_lag"]["percentiles_ns"]["p99"] / 1e6, 2)
                             if r["latency"]["send_lag"]["count"] else None,
    "horde_schedule_kept": s["schedule_kept"],
    "peer_cpu_s_per_million_messages": round(t["cpu_seconds_per_million_messages"], 2)
                                       if t.get("cpu_seconds_per_million_messages") else None,
  }
fig = {"benchmark": "protocol-mqtt-echo", "connections": n, "rate": rate,
       "environment": r["environment"], "variants": rows}
json.dump(fig, open(out, "w"), indent=1)
print(f"{'':34}" + "".join(f"{v:>14}" for v in rows))
for k in rows["ws"]:
  print(f"{k:34}" + "".join(f"{str(rows[v][k]):>14}" for v in rows))
print(f"written {out}")
PY
  exit 0
fi

common=(-c "$n" --groups "$topics" --subscriptions 1 --publishers "$topics" --rate "$rate/s"
        --duration "$duration" --drain 5s --connect-rate 1k/s --subscribe-timeout 30s --quiet)

for variant in mqtt-qos0 mqtt-qos1 ws; do
  case "$variant" in
  mqtt-qos0) start_mosquitto; pid=$broker_pid
    "$horde" run "$url" --protocol mqtt "${common[@]}" --target-pid "$pid" \
      --json "$tmp/$variant.json" || true
    stop_mosquitto ;;
  mqtt-qos1) start_mosquitto; pid=$broker_pid
    "$horde" run "$url" --protocol mqtt --protocol-option version=5 --protocol-option qos=1 \
      "${common[@]}" --target-pid "$pid" --json "$tmp/$variant.json" || true
    stop_mosquitto ;;
  ws) start_server --max-connections "$n"
    "$horde" run "$url" "${common[@]}" --target-pid "$server_pid" --json "$tmp/$variant.json" || true
    stop_server ;;
  esac
done

python3 - "$tmp" "$n" "$topics" "$rate" "$out_dir/protocol-mqtt-$n-$topics-$rate.json" <<'PY'
import json, sys
tmp, n, topics, rate, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
def ms(h, p):
  return round(h["percentiles_ns"][p] / 1e6, 2) if h and h.get("count") else None
rows = {}
for v in ["mqtt-qos0", "mqtt-qos1", "ws"]:
  r = json.load(open(f"{tmp}/{v}.json"))
  p, t, lat = r["pubsub"], r.get("target_cost", {}), r["scenario"]["latency"]
  rows[v] = {
    "opened": r["connections"]["opened"], "failed": r["connections"]["failed"],
    "subscribed": p["subscribes_in_force"], "publishes": p["publishes"],
    "expected": p["expected"], "delivered": p["delivered"], "lost": p["lost"],
    "duplicated": p["duplicated"],
    "fanout_p50_ms": ms(p["fanout_latency"], "p50"), "fanout_p99_ms": ms(p["fanout_latency"], "p99"),
    "subscribe_p99_ms": ms(p["subscribe_latency"], "p99"),
    "puback_p50_ms": ms(lat.get("protocol.mqtt.puback"), "p50"),
    "puback_p99_ms": ms(lat.get("protocol.mqtt.puback"), "p99"),
    "broker_bytes_per_connection": t.get("memory_per_connection_bytes"),
    "broker_cpu_s_per_million_messages": t.get("cpu_seconds_per_million_messages"),
    "broker_cpu_seconds": round(t.get("cpu_user_seconds", 0) + t.get("cpu_system_seconds", 0), 2),
  }
fig = {"benchmark": "protocol-mqtt", "connections": n, "topics": topics, "rate": rate,
       "environment": r["environment"], "variants": rows}
json.dump(fig, open(out, "w"), indent=1)
keys = list(rows["ws"].keys())
print(f"{'':36}" + "".join(f"{v:>14}" for v in rows))
for k in keys:
  print(f"{k:36}" + "".join(f"{str(rows[v][k]):>14}" for v in rows))
print(f"written {out}")
PY
