#!/usr/bin/env bash
# TLS benchmark (wss://), horde against `horde serve --tls-cert` on this host,
# with a CA and server certificate made here for the run (never kept):
#   hold        N wss connections opened and held with a ping every 10 s:
#               failures, full vs resumed handshakes, connect/TLS/upgrade
#               percentiles, horde's RSS per connection (and the server's);
#   echo        echo round trips/s over wss and over plain ws, same settings
#               as bench/echo.sh (1,000 connections, 64 B), the total rate
#               stepped up; per step round trips/s with every connection
#               open, p50/p99 and horde's CPU per million; the highest rate
#               sustained (nothing lost, p99 under 20 ms) on each, the ratio;
#   handshakes  connections opened as fast as they go (no messages), with
#               resumption and with --no-tls-resume: handshakes/s.
# Writes bench/results/tls.json. Prints figures; never passes or fails on them.
#
#   bench/tls.sh [hold_connections=20000] [hold_seconds=30] [parts="hold echo handshakes"]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
n=${1:-20000}
hold=${2:-30}
parts=${3:-"hold echo handshakes"}
hold_rate=${HOLD_RATE:-500}
echo_step=${ECHO_STEP:-6}
echo_rates=${ECHO_RATES:-"10000 20000 30000 40000 50000 60000 80000 100000"}
handshakes=${HANDSHAKES:-8000}
# A throwaway CA and a P-256 server certificate for localhost.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj "/CN=horde bench CA" \
  -keyout "$tmp/ca.key" -out "$tmp/ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
  -keyout "$tmp/server.key" -out "$tmp/server.csr" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$tmp/san.cnf"
openssl x509 -req -in "$tmp/server.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" -CAcreateserial \
  -days 1 -extfile "$tmp/san.cnf" -out "$tmp/server.pem" 2>/dev/null

# start_server_for MAX_CONNECTIONS [tls]: sets url (wss://localhost:PORT/ or ws://127.0.0.1:PORT/).
start_server_for() {
  local extra=()
  [ "${2:-}" = tls ] && extra=(--tls-cert "$tmp/server.pem" --tls-key "$tmp/server.key")
  start_server --max-connections "$1" "${extra[@]}"
  local port=${url##*:}
  port=${port%%/*}
  if [ "${2:-}" = tls ]; then url="wss://localhost:$port/"; else url="ws://127.0.0.1:$port/"; fi
}

rss_of() { awk '/VmRSS/{print $2*1024}' "/proc/$1/status"; }

if [[ " $parts " == *" hold "* ]]; then
  start_server_for "$n" tls
  server_before=$(rss_of "$server_pid")
  ramp=$(( (n + hold_rate - 1) / hold_rate ))
  duration=$(( ramp + hold ))
  ( sleep $(( duration - 1 )); rss_of "$server_pid" >"$tmp/server_rss_held" ) &
  sampler=$!
  echo "== hold: $n wss connections at ${hold_rate}/s, held ${hold}s with pings every 10s"
  "$horde" run "$url" --leave-for-target 0 --ca "$tmp/ca.pem" -c "$n" --connect-rate "${hold_rate}/s" --duration "${duration}s" \
    --ping-interval 10s --rate 0 --json "$tmp/hold.json" --quiet | tee "$tmp/hold.txt"
  wait "$sampler"
  echo "$server_before $(cat "$tmp/server_rss_held")" >"$tmp/server_rss"
  stop_server
fi

if [[ " $parts " == *" echo "* ]]; then
  for mode in ws wss; do
    start_server_for 1000 $([ $mode = wss ] && echo tls)
    for rate in $echo_rates; do
      "$horde" run "$url" --leave-for-target 0 --ca "$tmp/ca.pem" -c 1000 --connect-rate 0 --total-rate "${rate}/s" --size 64 \
        --duration "${echo_step}s" --json "$tmp/echo-$mode-$rate.json" --quiet >/dev/null
      kept=$(python3 - "$tmp/echo-$mode-$rate.json" "$mode" "$rate" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); m = r["messages"]; s = r["self"]; rt = r["latency"]["round_trip"]["percentiles_ns"]
ok = s["schedule_kept"] and m["sent"] == m["answered"]
n, end = r["plan"]["connections"], r["plan"]["duration_seconds"]
held = [p for p in r["series"] if p["opened"] >= n and p["t"] <= end]
steady = (held[-1]["received"] - held[0]["received"]) / (held[-1]["t"] - held[0]["t"]) if len(held) >= 2 else 0
print(f"{sys.argv[2]:>3} asked {int(sys.argv[3]):>7}/s  got {steady:>9.0f} rt/s (all open)  "
      f"p50 {rt['p50']/1e6:7.3f} ms  p99 {rt['p99']/1e6:7.3f} ms  lost {m['sent']-m['answered']}  "
      f"schedule {'kept' if s['schedule_kept'] else 'NOT kept'}", file=sys.stderr)
print(int(ok))
PY
)
      # Every step runs (no early stop): the most either side achieved is
      # the comparison, the highest kept step the sustained figure.
      : "$kept"
    done
    stop_server
  done
fi

if [[ " $parts " == *" handshakes "* ]]; then
  start_server_for "$handshakes" tls
  for resume in on off; do
    flag=()
    [ $resume = off ] && flag=(--no-tls-resume)
    "$horde" run "$url" --leave-for-target 0 --ca "$tmp/ca.pem" -c "$handshakes" --connect-rate 0 --max-pending 256 --rate 0 \
      --duration 15s "${flag[@]}" --json "$tmp/handshakes-$resume.json" --quiet >/dev/null
  done
  stop_server
fi

python3 - "$tmp" "$out_dir/tls.json" <<'PY'
import glob, json, os, sys
tmp, out = sys.argv[1], sys.argv[2]
fig = {"benchmark": "tls"}
def pct(run, name, p):
  return run["latency"][name]["percentiles_ns"][p] / 1e6
hold = os.path.join(tmp, "hold.json")
if os.path.exists(hold):
  r = json.load(open(hold)); c = r["connections"]; s = r["self"]; t = r["tls"]
  before, held = map(int, open(os.path.join(tmp, "server_rss")).read().split())
  fig["environment"] = r["environment"]
  fig["hold"] = {
    "connections": r["plan"]["connections"], "opened": c["opened"], "peak_open": c["peak_open"],
    "failed": c["failed"], "failures": {k: v for k, v in c["failures"].items() if v},
    "tls_failures": t["failures"],
    "full_handshakes": t["full_handshakes"], "resumed_handshakes": t["resumed_handshakes"],
    "pings_sent": r["messages"]["pings_sent"], "pongs_received": r["messages"]["pongs_received"],
    "closed_clean": c["closed_clean"],
    **{f"{name}_{p}_ms": pct(r, name, p) for name in ("connect", "tls_handshake", "upgrade") for p in ("p50", "p99")},
    "horde_rss_per_connection_bytes": (s["rss_at_peak_open"] - s["rss_before_connections"]) / max(1, s["open_at_rss_sample"]),
    "server_rss_per_connection_bytes": (held - before) / max(1, c["opened"]),
    "shards": r["plan"]["shards"],
  }
echo = {}
for mode in ("ws", "wss"):
  steps = []
  for path in glob.glob(os.path.join(tmp, f"echo-{mode}-*.json")):
    r = json.load(open(path)); m = r["messages"]; s = r["self"]; rt = r["latency"]["round_trip"]["percentiles_ns"]
    # Round trips/s once every connection is open and until sending ends (the
    # once-a-second samples), so wss's longer setup does not count against it.
    n, end = r["plan"]["connections"], r["plan"]["duration_seconds"]
    held = [p for p in r["series"] if p["opened"] >= n and p["t"] <= end]
    steady = (held[-1]["received"] - held[0]["received"]) / (held[-1]["t"] - held[0]["t"]) if len(held) >= 2 else None
    steps.append({"asked_per_s": round(r["plan"]["message_rate_per_connection"] * r["plan"]["connections"]),
                  "round_trips_per_s": steady or m["answered"] / r["elapsed_seconds"], "p50_ms": rt["p50"] / 1e6,
                  "p99_ms": rt["p99"] / 1e6, "schedule_kept": s["schedule_kept"],
                  "horde_cpu_s_per_million": (s["cpu_user_seconds"] + s["cpu_system_seconds"]) / max(1, m["answered"]) * 1e6,
                  # Sustained: nothing lost and p99 round trip under 20 ms.
                  "kept": m["sent"] == m["answered"] and rt["p99"] < 20e6})
  if steps:
    steps.sort(key=lambda x: x["asked_per_s"])
    kept = [x for x in steps if x["kept"]]
    echo[mode] = {"steps": steps, "highest_sustained_per_s": max((x["round_trips_per_s"] for x in kept), default=None),
                  "most_achieved_per_s": max(x["round_trips_per_s"] for x in steps)}
if echo:
  if "ws" in echo and "wss" in echo:
    echo["wss_to_ws_ratio_most_achieved"] = echo["wss"]["most_achieved_per_s"] / echo["ws"]["most_achieved_per_s"]
    if echo["ws"]["highest_sustained_per_s"] and echo["wss"]["highest_sustained_per_s"]:
      echo["wss_to_ws_ratio_sustained"] = echo["wss"]["highest_sustained_per_s"] / echo["ws"]["highest_sustained_per_s"]
  fig["echo"] = echo
hs = {}
for resume in ("on", "off"):
  path = os.path.join(tmp, f"handshakes-{resume}.json")
  if not os.path.exists(path): continue
  r = json.load(open(path)); t = r["tls"]; n = r["plan"]["connections"]
  done = next((p["t"] for p in r["series"] if p["opened"] >= n), None)
  # The steady rate: the slope of opened connections between 10% and 90%
  # of them (once-a-second samples), or n over the time to open all.
  mid = [p for p in r["series"] if 0.1 * n <= p["opened"] <= 0.9 * n]
  slope = (mid[-1]["opened"] - mid[0]["opened"]) / (mid[-1]["t"] - mid[0]["t"]) if len(mid) >= 2 else None
  hs["resumption_" + resume] = {
    "connections": n, "opened": r["connections"]["opened"], "failed": r["connections"]["failed"],
    "full": t["full_handshakes"], "resumed": t["resumed_handshakes"],
    "seconds_to_open_all": done, "handshakes_per_s": slope or ((n / done) if done else None),
    "tls_p50_ms": pct(r, "tls_handshake", "p50"), "tls_p99_ms": pct(r, "tls_handshake", "p99"),
    "connect_p50_ms": pct(r, "connect", "p50"), "connect_p99_ms": pct(r, "connect", "p99"),
    "bind_retries": r["connections"]["bind_retries"],
    "horde_cpu_seconds": r["self"]["cpu_user_seconds"] + r["self"]["cpu_system_seconds"],
  }
  # horde's own CPU per connection set up (TCP, TLS, upgrade, close), and the
  # rate one core of horde would sustain at that cost with the server elsewhere.
  cpu_ms = hs["resumption_" + resume]["horde_cpu_seconds"] * 1e3 / max(1, r["connections"]["opened"])
  hs["resumption_" + resume]["horde_cpu_ms_per_connection"] = cpu_ms
  hs["resumption_" + resume]["per_horde_core_per_s"] = 1e3 / cpu_ms if cpu_ms else None
if hs: fig["handshakes"] = hs
json.dump(fig, open(out, "w"), indent=1)
print(json.dumps({k: v for k, v in fig.items() if k != "environment"}, indent=1))
print(f"written {out}")
PY
