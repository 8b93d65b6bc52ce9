# Sourced by bench/*.sh after they set `here` (their directory): the binaries,
# bench/results/, a scratch directory removed on exit, and a `horde serve` on
# a port the kernel picks, stopped on exit too.
build=${BUILD:-$here/../build/release}
horde=${HORDE:-$build/horde}
out_dir=$here/results
mkdir -p "$out_dir"
tmp=$(mktemp -d)
server_pid=
trap 'stop_server; rm -rf "$tmp"' EXIT

# start_server [serve flags...]: sets server_pid and url (ws://127.0.0.1:PORT/).
start_server() {
  "$horde" serve "$@" --listen 127.0.0.1:0 >"$tmp/serve.out" 2>"$tmp/serve.err" &
  server_pid=$!
  for _ in $(seq 50); do grep -q listening "$tmp/serve.out" 2>/dev/null && break; sleep 0.1; done
  url=$(sed -n 's/^listening \(wss\{0,1\}:[^ ]*\).*/\1/p' "$tmp/serve.out")
  [ -n "$url" ] || { echo "horde serve did not start: $(cat "$tmp/serve.err")" >&2; exit 1; }
}

stop_server() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  server_pid=
}
