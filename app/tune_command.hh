// `horde tune`: what the kernel must allow for a plan, knob by knob, with the
// formula and the exact fix. Changes nothing unless --apply; --write-sysctl-conf
// writes a persistent sysctl.d file.
#pragma once

#include <string>

namespace horde::app {

struct tune_options {
  std::string url;  // the target, as for `horde run`: decides local or remote, and its port
  std::string connections = "100000";
  unsigned targets = 1;
  std::string source_ips;      // as for `horde run`; counts the addresses
  unsigned sources = 0;        // or just a count (0: from --source-ips, else 1)
  bool remote_target = false;  // the target runs on another host
  bool tls = false;
  std::string size = "64";
  std::string rate = "0";
  std::string connect_rate = "20000/s";  // as `horde run`: sizes the input queue a ramp needs
  std::string ping_interval;
  std::string ports = "1025-65535";  // as `horde run` binds; empty: the kernel's range
  bool apply = false;
  std::string sysctl_conf_path;
  std::string root = "/";  // a fake /proc + /sys tree, for tests
};

// Exit code: 0 when the plan fits (perhaps adapted), 1 when a check fails,
// 2 on bad flags or unreadable limits.
int tune(const tune_options& options);

}  // namespace horde::app
