#!/usr/bin/env bash
# permessage-deflate benchmark: an echo of 1 KiB JSON-like messages, in three
# modes taken in turn in one sitting, each `rounds` times:
#   plain        no compression offered (plain WebSocket)
#   deflate      permessage-deflate with context takeover (window 15 both ways)
#   deflate-nct  permessage-deflate, no context takeover either way
# Per run: the rate asked and answered, horde's CPU-seconds per million
# messages received (user + system, horde's process only), its memory per
# open connection (RSS growth / connections), the compression ratio, and the
# server's CPU per million (--target-pid).
# Writes bench/results/deflate.json. Prints figures; never passes or fails.
#
#   [PEER=horde|node] bench/deflate.sh [connections=1000] [rate=50000] [seconds=8] [rounds=2]
#
# PEER=horde (default): `horde serve --compression accept`, which compresses
# every echo as fast as horde does. PEER=node: Node `ws` with perMessageDeflate
# (tests/peers/node_deflate_server.js), a stack no one here wrote, which
# compresses 6-11k messages/s on one CPU here: "got" then falls below
# "asked", and horde's CPU per message is still per message it received.
# The server gets the upper half of the CPUs, horde the lower half (as in
# bench/echo.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
conns=${1:-1000}
rate=${2:-50000}
seconds=${3:-8}
rounds=${4:-2}
peer_kind=${PEER:-horde}
peers=$here/../tests/peers
if [ "$peer_kind" = node ] && [ ! -f "$peers/node_modules/ws/package.json" ]; then
  echo "node ws missing: run .ci/install-deps" >&2
  exit 1
fi

ncpu=$(nproc)
half=$((ncpu / 2))
[ "$half" -ge 1 ] || half=1
serve_cpus=$half-$((ncpu - 1))
run_cpus=0-$((half - 1))
[ "$ncpu" -ge 2 ] || { serve_cpus=0; run_cpus=0; }

# A chat message with a list of recent ones, 1,024 bytes; horde's stamp
# rides in the "stamp" field (32 bytes at offset 50).
python3 - "$tmp/chat.json" <<'PY'
import sys
s = '{"type":"chat.message","room":"lobby-42","stamp":"' + "_" * 32 + '","recent":['
i = 0
while len(s) < 1100:
    s += '{"user":"user%d","text":"hello everyone, this is message %d","at":"2026-12-04T23:%02d:00Z"},' % (i, i, i % 60)
    i += 1
s = s[:1021] + '"]}'
open(sys.argv[1], "w").write(s)
PY

if [ "$peer_kind" = node ]; then
  mkfifo "$tmp/peer.in"
  sleep 100000 >"$tmp/peer.in" &
  holder=$!
  taskset -c "$serve_cpus" node "$peers/node_deflate_server.js" <"$tmp/peer.in" >"$tmp/peer.out" 2>&1 &
  peer=$!
  trap 'kill $peer $holder 2>/dev/null || true; rm -rf "$tmp"' EXIT
  for _ in $(seq 50); do [ -s "$tmp/peer.out" ] && break; sleep 0.1; done
  url="ws://127.0.0.1:$(head -1 "$tmp/peer.out")/"
else
  start_server --cpus "$serve_cpus" --max-connections "$conns" --compression accept
  peer=$server_pid
fi
declare -A flags=(
  [plain]="--compression off"
  [deflate]="--compression require"
  [deflate-nct]="--compression require --compression-no-context-takeover both"
)
echo "$peer_kind peer on CPUs $serve_cpus, horde on $run_cpus; $conns connections, $rate msg/s asked, ${seconds}s a run"
for round in $(seq "$rounds"); do
  for mode in plain deflate deflate-nct; do
    # shellcheck disable=SC2086
    "$horde" run "$url" -c "$conns" --connect-rate 0 --total-rate "${rate}/s" \
      --payload "file:$tmp/chat.json" --stamp-offset 50 --duration "${seconds}s" \
      --cpus "$run_cpus" ${flags[$mode]} --target-pid "$peer" \
      --quiet --json "$tmp/$mode-$round.json" >/dev/null || true
    python3 - "$tmp/$mode-$round.json" "$mode" "$rate" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); mode = sys.argv[2]; rate = int(sys.argv[3])
m = r["messages"]; s = r["self"]; c = r.get("compression", {})
cpu = s["cpu_user_seconds"] + s["cpu_system_seconds"]
got = m["answered"] / r["elapsed_seconds"]
mem = s.get("memory_per_connection_bytes") or 0
ratio = c.get("sent", {}).get("ratio", 0)
server = (r.get("target_cost") or {}).get("cpu_seconds_per_million_messages") or 0
print(f"{mode:<12} asked {rate:>6}/s  got {got:>7.0f}/s  cpu/M {cpu / max(1, m['received']) * 1e6:6.2f} s  "
      f"mem/conn {mem / 1024:7.1f} KiB  ratio {ratio:5.2f}  server cpu/M {server:6.2f} s  "
      f"lost {m['sent'] - m['answered']}"
      f"{'' if s['schedule_kept'] else '  (schedule not kept: ' + s['schedule_cause'] + ', waited ' + format(s['cpu_wait_share'] * 100, '.0f') + '%)'}")
PY
  done
done
python3 - "$tmp" "$out_dir/deflate.json" "$rate" "$peer_kind" <<'PY'
import glob, json, os, sys
runs = []
for path in sorted(glob.glob(os.path.join(sys.argv[1], "*-[0-9]*.json"))):
    r = json.load(open(path)); m = r["messages"]; s = r["self"]; c = r.get("compression", {})
    cpu = s["cpu_user_seconds"] + s["cpu_system_seconds"]
    runs.append({"mode": os.path.basename(path).rsplit("-", 1)[0], "asked_per_s": int(sys.argv[3]),
                 "answered_per_s": m["answered"] / r["elapsed_seconds"],
                 "horde_cpu_s_per_million": cpu / max(1, m["received"]) * 1e6,
                 "memory_per_connection_bytes": s.get("memory_per_connection_bytes"),
                 "server_cpu_s_per_million": (r.get("target_cost") or {}).get("cpu_seconds_per_million_messages"),
                 "compression": c, "schedule_kept": s["schedule_kept"], "environment": r["environment"]})
json.dump({"benchmark": "deflate", "peer": sys.argv[4], "runs": runs}, open(sys.argv[2], "w"), indent=1)
print(f"written {sys.argv[2]}")
PY
