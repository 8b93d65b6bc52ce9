#!/usr/bin/env bash
# Soak: hold N connections to a separate `horde serve` for a long time with
# pings and a modest echo rate, and check that horde holds nothing it should
# not: its RSS slope over the hold (bytes per hour, from the once-a-second
# series), its descriptor count at the start and end of the hold, and the
# run's leak check (slots in use = connections open at the end; framing
# contexts and source ports all returned). Prints figures; never passes or
# fails on them. Not part of CI (30 minutes by default).
#
#   bench/soak.sh [connections=50000] [seconds=1800] [rate_per_connection=0.2]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/common.sh"
n=${1:-50000}
seconds=${2:-1800}
rate=${3:-0.2}

start_server --max-connections "$n"
"$horde" run "$url" --leave-for-target 0 -c "$n" --connect-rate 20000/s --duration "${seconds}s" \
  --ping-interval 30s --rate "${rate}/s" --json "$tmp/soak.json" --quiet >"$tmp/soak.out" 2>&1 &
run_pid=$!
# Descriptors: after the ramp, and near the end of the hold. horde's sockets
# are io_uring direct descriptors, so this counts its own files (rings,
# eventfds, /proc reads): it must not grow.
ramp=$(( n / 20000 + 5 ))
sleep "$ramp"
fds_start=$(ls "/proc/$run_pid/fd" 2>/dev/null | wc -l)
sleep $(( seconds > ramp + 10 ? seconds - ramp - 5 : 1 ))
fds_end=$(ls "/proc/$run_pid/fd" 2>/dev/null | wc -l)
wait "$run_pid" || true
cp "$tmp/soak.json" "$out_dir/soak-$n-run.json"

python3 - "$tmp/soak.json" "$n" "$seconds" "$fds_start" "$fds_end" "$out_dir/soak-$n.json" <<'PY'
import json, sys
path, n, seconds, fds_start, fds_end, out = sys.argv[1:]
r = json.load(open(path))
series = r["series"]
# The hold: after every connection opened, before the end of sending.
hold = [p for p in series if p["open"] >= int(n) and p["t"] <= float(seconds) - 1]
slope = 0.0
if len(hold) >= 10:
    ts = [p["t"] for p in hold]
    rs = [p["rss_bytes"] for p in hold]
    mt, mr = sum(ts) / len(ts), sum(rs) / len(rs)
    var = sum((t - mt) ** 2 for t in ts)
    slope = sum((t - mt) * (x - mr) for t, x in zip(ts, rs)) / var if var else 0.0
c, m, leak = r["connections"], r["messages"], r["leak_check"]
figures = {
    "connections": int(n), "seconds": float(seconds),
    "opened": c["opened"], "failed": c["failed"], "failures": {k: v for k, v in c["failures"].items() if v},
    "messages_sent": m["sent"], "answered": m["answered"],
    "pings_sent": m["pings_sent"], "pongs_received": m["pongs_received"],
    "rss_at_hold_start": hold[0]["rss_bytes"] if hold else None,
    "rss_at_hold_end": hold[-1]["rss_bytes"] if hold else None,
    "rss_slope_bytes_per_hour": slope * 3600,
    "rss_slope_bytes_per_connection_hour": slope * 3600 / int(n),
    "fds_at_hold_start": int(fds_start), "fds_at_hold_end": int(fds_end),
    "leak_check": leak,
    "peak_rss_bytes": r["self"]["peak_rss_bytes"],
}
json.dump(figures, open(out, "w"), indent=1)
print(f"soak: {n} connections for {seconds} s at {r['plan']['message_rate_per_connection']}/s each")
print(f"  opened {c['opened']}  failed {c['failed']}  messages {m['sent']} sent, {m['answered']} answered, pings {m['pings_sent']}/{m['pongs_received']}")
if hold:
    print(f"  RSS {hold[0]['rss_bytes']/2**20:.1f} MiB -> {hold[-1]['rss_bytes']/2**20:.1f} MiB over the hold; slope {slope*3600/2**20:.2f} MiB/hour ({slope*3600/int(n):.1f} B per connection-hour)")
    quarters = [hold[min(len(hold) - 1, len(hold) * q // 4)] for q in range(5)]
    print("  RSS at each quarter of the hold: " + ", ".join(f"{p['t']:.0f} s {p['rss_bytes']/2**20:.1f} MiB" for p in quarters))
print(f"  descriptors {fds_start} -> {fds_end}")
print(f"  slots in use at the end {leak['slots_live_at_end']}, open or opening {leak['open_or_opening_at_end']}; framing contexts left {leak['framing_contexts_left']}, source ports left {leak['source_ports_left']}")
print(f"  figures: {out}")
PY
