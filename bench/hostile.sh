#!/usr/bin/env bash
# Hostile-server benchmark: one tests/peers/hostile_server.py serves every
# misbehaviour (the URL's first path segment picks it); horde runs against
# each in turn, and each run's wall time, peak RSS and failure reasons are
# printed, one line a mode, and written to bench/results/hostile.json with
# the kernel, the CPUs and the limits in force. "in bound" says whether the
# run ended by itself within duration + drain + 2 x close-timeout + 3 s. Prints
# figures; never passes or fails on them (exit 0).
#
#   bench/hostile.sh [connections=10] [duration_seconds=3] [modes...]
#   HORDE=/path/to/horde bench/hostile.sh     # another binary
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
n=${1:-10}
duration=${2:-3}
shift 2 2>/dev/null || shift $#
drain=1
close_timeout=1
bound=$(( duration + drain + 2 * close_timeout + 3 ))
hard=$(( bound + 11 ))  # the kill deadline for a run that hangs

# mode | scheme:listener | extra flags | the reason horde should report
table="
stop_reading|ws:plain|--size 256KiB --rate 50/s|send_backlog
ping_storm|ws:plain||close_timeout
silent|ws:plain|--upgrade-timeout 1s|upgrade_timeout
silent_until_end|ws:plain|--upgrade-timeout 60s|unfinished_upgrade
slow_drip|ws:plain|--upgrade-timeout 1s|upgrade_timeout
wrong_accept|ws:plain||upgrade_bad_accept
endless_header|ws:plain||upgrade_header_too_large
status_401|ws:plain||upgrade_rejected
status_503|ws:plain||upgrade_rejected
garbage|ws:plain||upgrade_invalid
no_upgrade_header|ws:plain||upgrade_invalid
huge_length|ws:plain||protocol_message_too_big
giant_message|ws:plain||protocol_message_too_big
masked_frame|ws:plain||protocol_masked_frame
bad_utf8|ws:plain||protocol_invalid_utf8
rsv_bits|ws:plain||protocol_reserved_bits
reserved_opcode|ws:plain||protocol_bad_opcode
fragmented_ping|ws:plain||protocol_bad_control_frame
long_ping|ws:plain||protocol_bad_control_frame
bad_close_code|ws:plain||protocol_bad_close_code
continuation_first|ws:plain||protocol_error
close_4001|ws:plain||closed_by_server
reset_after_upgrade|ws:plain||reset_by_server
half_close|ws:plain||eof_from_server
pong_never|ws:plain|--ping-interval 500ms --pong-timeout 500ms|pong_timeout
tiny_frame_flood|ws:plain||-
tls_on_plain|ws:tls||tls_answer_to_plain
plain_on_tls|wss:plain||plain_answer_to_tls
echo|ws:plain|--rate 10/s|-
"

# The peer keeps serving while its stdin is open: hold a FIFO's write end.
peer_pid=
stop_peer() {
  exec 3>&- 2>/dev/null || true
  if [ -n "$peer_pid" ]; then
    kill "$peer_pid" 2>/dev/null || true
    wait "$peer_pid" 2>/dev/null || true
  fi
  peer_pid=
}
trap 'stop_peer; stop_server; rm -rf "$tmp"' EXIT
mkfifo "$tmp/peer.in"
python3 "$here/../tests/peers/hostile_server.py" <"$tmp/peer.in" >"$tmp/peer.out" 2>"$tmp/peer.err" &
peer_pid=$!
exec 3>"$tmp/peer.in"
for _ in $(seq 100); do [ "$(wc -l <"$tmp/peer.out")" -ge 2 ] && break; sleep 0.1; done
plain_port=$(sed -n 1p "$tmp/peer.out")
tls_port=$(sed -n 2p "$tmp/peer.out")
if [ -z "$tls_port" ]; then
  echo "hostile_server.py did not start: $(cat "$tmp/peer.err")"
  exit 0
fi

# A binary from before --close-timeout rejects the flag: leave it out there.
close_flag=(--close-timeout "${close_timeout}s")
if ! "$horde" run --help 2>/dev/null | grep -q -- --close-timeout; then
  close_flag=()
  echo "note: $horde has no --close-timeout; runs use its default close wait"
fi
have_time=0
[ -x /usr/bin/time ] && have_time=1

# run_bounded PREFIX ARGS...: `horde run ARGS` with output in PREFIX.out and
# PREFIX.err. Sets wall (s), rss_kib (peak: /usr/bin/time's, else the largest
# VmHWM seen), status, and signalled ("" when the run ended by itself, else
# the signals it took). A run still going at $hard s gets SIGINT, and
# SIGKILL 5 s later.
run_bounded() {
  local prefix=$1 pid watched hwm start now
  shift
  start=$(date +%s%N)
  if [ "$have_time" = 1 ]; then
    /usr/bin/time -f '%M %x' -o "$prefix.time" "$horde" run "$@" >"$prefix.out" 2>"$prefix.err" &
  else
    "$horde" run "$@" >"$prefix.out" 2>"$prefix.err" &
  fi
  pid=$!
  watched=$pid
  rss_kib=0
  signalled=
  while kill -0 "$pid" 2>/dev/null; do
    # Under /usr/bin/time, horde is its only child.
    if [ "$have_time" = 1 ] && [ "$watched" = "$pid" ]; then
      watched=$(awk '{print $1}' "/proc/$pid/task/$pid/children" 2>/dev/null)
      [ -n "$watched" ] || watched=$pid
    fi
    hwm=$(awk '/^VmHWM/{print $2}' "/proc/$watched/status" 2>/dev/null)
    [ -n "$hwm" ] && [ "$hwm" -gt "$rss_kib" ] && rss_kib=$hwm
    now=$(date +%s%N)
    if [ -z "$signalled" ] && (( now - start > hard * 1000000000 )); then
      kill -INT "$watched" 2>/dev/null; signalled="SIGINT at ${hard}s"
    elif [ "$signalled" = "SIGINT at ${hard}s" ] && (( now - start > (hard + 5) * 1000000000 )); then
      kill -KILL "$watched" 2>/dev/null; signalled="$signalled, SIGKILL 5s later"
    fi
    sleep 0.1
  done
  wait "$pid"
  status=$?
  wall=$(awk -v a="$start" -v b="$(date +%s%N)" 'BEGIN{printf "%.2f", (b - a) / 1e9}')
  if [ "$have_time" = 1 ] && [ -s "$prefix.time" ]; then
    read -r rss_kib status <<<"$(tail -n 1 "$prefix.time")"
    [[ "$rss_kib" =~ ^[0-9]+$ ]] || rss_kib=${hwm:-0}
    # Killed: "Command terminated by signal N" comes first, and %x says 0.
    local sig
    sig=$(sed -n 's/^Command terminated by signal \([0-9]*\).*/\1/p' "$prefix.time")
    [ -n "$sig" ] && status=-$sig
  fi
}

printf '%-20s %7s %8s %-8s %-26s %s\n' mode wall_s rss_MiB in_bound expected reported
: >"$tmp/rows"
while IFS='|' read -r mode where flags expected; do
  [ -n "$mode" ] || continue
  if [ $# -gt 0 ] && [[ " $* " != *" $mode "* ]]; then continue; fi
  scheme=${where%%:*}
  port=$plain_port
  [ "${where#*:}" = tls ] && port=$tls_port
  json=$tmp/$mode.json
  rm -f "$json"
  # shellcheck disable=SC2206  # flags are words on purpose
  args=("$scheme://127.0.0.1:$port/$mode" -c "$n" --duration "${duration}s" --drain "${drain}s"
        "${close_flag[@]}" --connect-rate 0 $flags --quiet --json "$json")
  run_bounded "$tmp/$mode" "${args[@]}"
  python3 - "$json" "$mode" "$expected" "$wall" "$rss_kib" "$status" "$bound" \
    "$tmp/$mode.err" "$signalled" >>"$tmp/rows" <<'PY'
import json, sys
path, mode, expected, wall, rss_kib, status, bound, err, signalled = sys.argv[1:10]
try:
    run = json.load(open(path))
except (OSError, ValueError):
    run = None
row = {"mode": mode, "expected": expected, "wall_seconds": float(wall), "bound_seconds": float(bound),
       "exit_status": int(status) if status.lstrip("-").isdigit() else None, "json_written": run is not None}
# Peak RSS: /usr/bin/time's (KiB), else horde's own VmHWM from the JSON.
peak = run.get("horde", {}).get("peak_rss_bytes") if run else None
row["peak_rss_bytes"] = int(rss_kib) * 1024 if rss_kib else peak
row["json_peak_rss_bytes"] = peak
row["in_bound"] = run is not None and not signalled and row["wall_seconds"] <= row["bound_seconds"]
row["signalled"] = signalled or None  # what it took to end a run that did not end by itself
if run:
    c = run["connections"]
    row["failures"] = {k: v for k, v in c.get("failures", {}).items() if v}
    row["upgrade_status"] = c.get("upgrade_status", {})
    row["server_close_codes"] = c.get("server_close_codes", {})
    row["opened"] = c.get("opened")
    row["messages_received"] = run.get("messages", {}).get("received")
    row["interrupted"] = run.get("interrupted")
else:
    row["stderr"] = open(err, errors="replace").read()[-300:]
row["stderr_tail"] = open(err, errors="replace").read().strip().splitlines()[-1:]
print(json.dumps(row))
PY
  python3 - "$(tail -n 1 "$tmp/rows")" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
rss = f"{r['peak_rss_bytes'] / 2**20:.1f}" if r["peak_rss_bytes"] else "-"
if r["json_written"]:
    got = " ".join(f"{k}={v}" for k, v in sorted(r["failures"].items())) or "no failures"
    extra = [f"status {k}={v}" for k, v in r["upgrade_status"].items()]
    extra += [f"close {k}={v}" for k, v in r["server_close_codes"].items()]
    if r["expected"] == "-":
        extra.append(f"received={r['messages_received']}")
    got += ("  (" + ", ".join(extra) + ")") if extra else ""
else:
    how = f"signal {-r['exit_status']}" if (r["exit_status"] or 0) < 0 else f"exit {r['exit_status']}"
    got = f"no JSON ({how})" + "".join(": " + line for line in r["stderr_tail"])
if r["signalled"]:
    got = f"[did not end: {r['signalled']}] " + got
print(f"{r['mode']:20} {r['wall_seconds']:7.2f} {rss:>8} {'yes' if r['in_bound'] else 'NO':8} {r['expected']:26} {got}")
PY
done <<<"$table"

python3 - "$tmp/rows" "$out_dir/hostile.json" "$horde" "$n" "$duration" "$bound" <<'PY'
import json, os, platform, resource, sys
rows_path, out, horde, n, duration, bound = sys.argv[1:7]
rows = [json.loads(line) for line in open(rows_path) if line.strip()]
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
fig = {
    "benchmark": "hostile",
    "environment": {"kernel": platform.release(), "cpus": os.cpu_count(), "nofile_soft": soft, "nofile_hard": hard},
    "horde": horde, "connections": int(n), "duration_seconds": int(duration), "bound_seconds": int(bound),
    "modes": rows,
}
json.dump(fig, open(out, "w"), indent=1)
print(f"written {out}")
PY
stop_peer
echo "peer: $(cat "$tmp/peer.err")"
exit 0
