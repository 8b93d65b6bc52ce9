#!/usr/bin/env bash
# Scenario benchmarks (docs/scenarios.md), horde against `horde serve` on
# this host, the server on CPU 1 and horde on CPU 0:
#   rpc       JSON request/response correlated by id vs the plain stamped
#             echo at the same total rate, alternating runs: horde's
#             CPU-seconds per million messages for each and the ratio (the
#             echo server sends each request back, so its id answers it);
#   sessions  N connections, each `POST /sessions` (horde serve --sessions),
#             its token and session id captured, the upgrade on the same
#             socket with `Authorization: Bearer {token}`, then one pub/sub
#             subscription: setups/s end to end, HTTP step and upgrade
#             percentiles, horde's CPU per connection set up;
#   storm     N connections held with --reconnect; the server drops half of
#             them at once (horde serve --drop-at): time until the live
#             count is back, horde's CPU during the storm.
# Writes bench/results/scenarios-<part>.json. Prints figures; never passes
# or fails on them.
#
#   bench/scenarios.sh [parts="rpc sessions storm"] [connections=100000]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
parts=${1:-"rpc sessions storm"}
n=${2:-100000}
rpc_connections=${RPC_CONNECTIONS:-1000}
rpc_rates=${RPC_RATES:-"20000 50000 100000"}
rpc_rounds=${RPC_ROUNDS:-3}
rpc_seconds=${RPC_SECONDS:-10}

# figure FILE EXPR: one number from a result, with python3.
figure() { python3 -c "import json,sys; j=json.load(open('$1')); print($2)"; }

cpu_per_million() {
  figure "$1" "round(j['self']['cpu_seconds_per_million_messages'] or 0, 2)"
}

run_rpc() {
  start_server --cpus 1
  echo "rpc: $rpc_connections connections, ${rpc_seconds} s per run, $rpc_rounds rounds, alternating"
  printf '  %-10s %-12s %-12s %-8s %s\n' "msgs/s" "echo cpu/M" "rpc cpu/M" "ratio" "last rpc p50/p99 ms (echo)"
  for rate in $rpc_rates; do
    local e_sum=0 r_sum=0 line=""
    for round in $(seq "$rpc_rounds"); do
      "$horde" run "$url" -c "$rpc_connections" -d "${rpc_seconds}s" --total-rate "$rate/s" \
        --size 64 --text --cpus 0 -q --json "$tmp/echo.json" >/dev/null 2>&1 || true
      "$horde" run "$url" -c "$rpc_connections" -d "${rpc_seconds}s" --total-rate "$rate/s" \
        --cpus 0 -q --json "$tmp/rpc.json" \
        --request '{"jsonrpc":"2.0","method":"add","params":[1,2],"id":{seq}}' >/dev/null 2>&1 || true
      e_sum=$(python3 -c "print($e_sum + $(cpu_per_million "$tmp/echo.json"))")
      r_sum=$(python3 -c "print($r_sum + $(cpu_per_million "$tmp/rpc.json"))")
      line=$(figure "$tmp/rpc.json" "'%.2f/%.2f' % (j['scenario']['latency']['request.request0']['percentiles_ns']['p50']/1e6, j['scenario']['latency']['request.request0']['percentiles_ns']['p99']/1e6)")
      line="$line ($(figure "$tmp/echo.json" "'%.2f/%.2f' % (j['latency']['round_trip']['percentiles_ns']['p50']/1e6, j['latency']['round_trip']['percentiles_ns']['p99']/1e6)"))"
      cp "$tmp/rpc.json" "$out_dir/scenarios-rpc-$rate.json"
    done
    printf '  %-10s %-12s %-12s %-8s %s\n' "$rate" \
      "$(python3 -c "print(round($e_sum/$rpc_rounds,2))")" \
      "$(python3 -c "print(round($r_sum/$rpc_rounds,2))")" \
      "$(python3 -c "print(round($r_sum/$e_sum,3) if $e_sum else '-')")" "$line"
  done
  stop_server
}

run_sessions() {
  start_server --cpus 1 --sessions bench-secret-0123456789abcdef --max-connections "$n"
  local port=${url##*:}
  port=${port%/}
  cat >"$tmp/sessions.yaml" <<EOF
url: ws://127.0.0.1:$port/ws/{session_id}
connections: $n
connect-rate: ${SESSION_RATE:-20000}/s
duration: ${SESSION_SECONDS:-30}s
groups: 1000
subscriptions: 1
publishers: 1
rate: 1/s
header: ["Authorization: Bearer {token}"]
http:
  - name: create-session
    method: POST
    url: http://127.0.0.1:$port/sessions
    headers: ['Content-Type: application/json']
    body: '{"user":"u{conn}"}'
    expect: [201]
    capture:
      session_id: {json: /session_id}
      token: {json: /token}
EOF
  "$horde" run --scenario "$tmp/sessions.yaml" --cpus 0 -q --json "$out_dir/scenarios-sessions.json" || true
  figure "$out_dir/scenarios-sessions.json" "'sessions: %d of %d opened; setups/s end to end %s (to 99.9%%, 1 s resolution); http p50 %.2f ms p99 %.2f ms; horde CPU %.1f us per connection set up' % (j['connections']['opened'], $n, round($n / next((p['t'] for p in j['series'] if p['opened'] >= 0.999 * $n), 1e9)), j['scenario']['latency']['http.create-session']['percentiles_ns']['p50']/1e6, j['scenario']['latency']['http.create-session']['percentiles_ns']['p99']/1e6, 1e6*(j['self']['cpu_user_seconds']+j['self']['cpu_system_seconds'])/max(1,j['connections']['opened']))"
  stop_server
}

run_storm() {
  start_server --cpus 1 --max-connections "$n" --drop-at "${STORM_AT:-15}" --drop-fraction 0.5
  "$horde" run "$url" -c "$n" --connect-rate 30000/s -d "${STORM_SECONDS:-40}s" --rate 0 --cpus 0 \
    --reconnect --backoff-base "${STORM_BASE:-100ms}" --backoff-cap "${STORM_CAP:-5s}" \
    --json "$out_dir/scenarios-storm.json" || true
  figure "$out_dir/scenarios-storm.json" "'storm: events %s; reconnects %d (%s attempts each)' % (j['scenario']['disconnect_events'], j['scenario']['reconnects'], j['scenario']['attempts_per_success'])"
  stop_server
}

for part in $parts; do
  "run_$part"
done
