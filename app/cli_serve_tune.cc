// `horde serve` and `horde tune`: their flags.
#include <CLI/CLI.hpp>

#include "app/cli.hh"
#include "app/cli_commands.hh"

namespace horde::app {

namespace {

// permessage-deflate, the server's side of horde run's --compression flags.
void add_serve_compression_flags(CLI::App* serve_cmd, serve_options& serve_opts) {
  static constexpr const char* group = "Compression (permessage-deflate, docs/compression.md)";
  serve_cmd
      ->add_option("--compression", serve_opts.compression,
                   "permessage-deflate (RFC 7692): off (the 101 never names it), or accept (the "
                   "first offer of a client whose terms we meet is agreed; echoes then go out "
                   "compressed). A connection that keeps its context holds ~180 KiB of zlib "
                   "state at window 15: see --compression-no-context-takeover")
      ->check(CLI::IsMember({"off", "accept"}))
      ->capture_default_str()
      ->group(group);
  serve_cmd
      ->add_option("--compression-window-bits", serve_opts.compression_window_bits,
                   "Compress with a window of at most 2^N bytes (server_max_window_bits=N) and "
                   "ask the same of clients that allow it (client_max_window_bits=N), 9..15. "
                   "Default 15, or narrower when the client asks")
      ->check(CLI::Range(9u, 15u))
      ->type_name("N")
      ->group(group);
  serve_cmd
      ->add_option("--compression-no-context-takeover", serve_opts.compression_no_context_takeover,
                   "Compress each message on its own: server (ours: server_no_context_takeover), "
                   "client (asked of the client: client_no_context_takeover) or both. A side "
                   "without context needs no zlib state per connection (one per shard serves "
                   "all). A client that asks for either gets it whatever this says")
      ->check(CLI::IsMember({"server", "client", "both"}))
      ->type_name("WHICH")
      ->group(group);
}

}  // namespace

CLI::App* add_serve_command(CLI::App& cli, serve_options& serve_opts) {
  CLI::App* serve_cmd = cli.add_subcommand(
      "serve", "Run the reference WebSocket server: echo and pub/sub broker (io_uring)");
  serve_cmd->footer(
      "\nThe first line on stdout is 'listening ws://ADDR:PORT/ ...' (with --listen ADDR:0 the\n"
      "kernel picks the port). Stops on SIGINT/SIGTERM or after --duration.\n");
  serve_cmd->footer(serve_cmd->get_footer() + "\n" + exit_codes_text);
  serve_cmd->add_option("--listen", serve_opts.listen, "Address:port to listen on")
      ->capture_default_str();
  serve_cmd
      ->add_option("--max-connections", serve_opts.max_connections, "Connections to make room for")
      ->capture_default_str();
  serve_cmd->add_option("--cpus", serve_opts.cpus, "CPUs for the shards");
  serve_cmd->add_option("--shards", serve_opts.shards,
                        "Shards; default: CPUs, more if the fd limit needs");
  serve_cmd->add_option("--duration", serve_opts.duration, "Stop after this long");
  serve_cmd->add_flag("--raw", serve_opts.raw, "Echo raw TCP bytes (for horde run --raw)");
  serve_cmd->add_option("--tls-cert", serve_opts.tls_cert,
                        "Terminate TLS (wss://) with this PEM certificate chain");
  serve_cmd->add_option("--tls-key", serve_opts.tls_key,
                        "The key of --tls-cert (PEM; default: in the --tls-cert file)");
  serve_cmd->add_option("--drop-every", serve_opts.drop_every,
                        "Testing only: drop every Nth pub/sub delivery (horde run must report "
                        "exactly these as lost)");
  serve_cmd->add_option("--duplicate-every", serve_opts.duplicate_every,
                        "Testing only: send every Nth pub/sub delivery twice");
  serve_cmd->add_option("--sessions", serve_opts.sessions,
                        "Session service with this HS256 secret: POST /sessions answers 201 "
                        "{\"session_id\",\"token\"} (kept alive); every upgrade then needs "
                        "'Authorization: Bearer <token>' (401 otherwise)");
  serve_cmd->add_option("--drop-at", serve_opts.drop_at,
                        "Mass disconnect this long after the first accepted connection (e.g. 10s)");
  serve_cmd
      ->add_option("--drop-fraction", serve_opts.drop_fraction,
                   "Share of each shard's open connections --drop-at closes, in (0, 1]")
      ->capture_default_str();
  serve_cmd
      ->add_option("--drop-mode", serve_opts.drop_mode,
                   "close: close frame 1001 'horde: mass drop', then FIN; reset: TCP RST")
      ->check(CLI::IsMember({"close", "reset"}))
      ->capture_default_str();
  add_serve_compression_flags(serve_cmd, serve_opts);
  return serve_cmd;
}

CLI::App* add_tune_command(CLI::App& cli, tune_options& tune_opts) {
  CLI::App* tune_cmd = cli.add_subcommand(
      "tune", "What the kernel must allow for a plan: every limit, the formula, the fix");
  tune_cmd->footer(
      "\nReads every limit that caps a connection generator (RLIMIT_NOFILE, fs.nr_open,\n"
      "ip_local_port_range, somaxconn, tcp_mem, TIME_WAIT buckets, conntrack, THP, ...),\n"
      "computes what the plan needs and prints one line per knob: current, needed, the\n"
      "formula, a verdict (ok / adapted / warn / FAIL) and the exact command that fixes it.\n"
      "Nothing is changed without --apply. Exit 0 when the plan fits, 1 when it does not.\n\n"
      "  horde tune -c 100k ws://127.0.0.1:9000/    loopback target on this host\n"
      "  horde tune -c 1M --sources 16 --remote-target --write-sysctl-conf 90-horde.conf\n"
      "  sudo horde tune -c 200k --apply\n");
  tune_cmd->add_option("url", tune_opts.url,
                       "Target ws://host:port/path (loopback: the target runs here)");
  tune_cmd->add_option("-c,--connections", tune_opts.connections, "Connections the plan opens")
      ->capture_default_str();
  tune_cmd->add_option("--targets", tune_opts.targets, "Target endpoints")->capture_default_str();
  tune_cmd->add_option("--source-ips", tune_opts.source_ips, "Local addresses, as for horde run");
  tune_cmd->add_option("--sources", tune_opts.sources,
                       "Number of local addresses (instead of --source-ips)");
  tune_cmd->add_flag("--remote-target", tune_opts.remote_target, "The target runs on another host");
  tune_cmd->add_flag("--tls", tune_opts.tls, "Connections use TLS (wss://)");
  tune_cmd->add_option("--size", tune_opts.size, "Message size")->capture_default_str();
  tune_cmd
      ->add_option("--connect-rate", tune_opts.connect_rate,
                   "New connections per second, as for horde run (sizes the input queue)")
      ->capture_default_str();
  tune_cmd->add_option("--ping-interval", tune_opts.ping_interval,
                       "Pings per connection, as for horde run");
  tune_cmd->add_option("--rate", tune_opts.rate, "Messages per second per connection")
      ->capture_default_str();
  tune_cmd
      ->add_option("--ports", tune_opts.ports,
                   "Local port range horde run binds from ('' = the kernel's)")
      ->capture_default_str();
  tune_cmd->add_flag("--apply", tune_opts.apply,
                     "Raise what root may raise (never lowers anything)");
  tune_cmd->add_option("--write-sysctl-conf", tune_opts.sysctl_conf_path,
                       "Write a sysctl.d file (and limits.conf / LimitNOFILE= lines) here");
  tune_cmd->add_option("--root", tune_opts.root, "Read /proc and /sys under this directory (tests)")
      ->group("");

  return tune_cmd;
}

}  // namespace horde::app
