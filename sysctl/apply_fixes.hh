// `horde tune --apply`: carries out what the check lines ask of /proc/sys,
// under a root directory, and only ever in the direction of more room.
#pragma once

#include <string>
#include <vector>

#include "sysctl/kernel_limits.hh"
#include "sysctl/planner.hh"

namespace horde::sysctl {

struct apply_outcome {
  std::vector<std::string> applied;  // "net.core.somaxconn: 2048 -> 4096"
  std::vector<std::string> failed;   // a write the kernel refused, with the reason
  std::vector<std::string>
      skipped;  // already enough, or not a thing --apply changes (with the fix)
};

// For every line that is not ok: writes its raise_to under
// <root>/proc/sys/<proc_sys_path>, re-reading the file first so a value
// already larger is never lowered (a port range is only widened). Lines
// without a sysctl fix are reported in skipped with their fix. Raises this
// process's RLIMIT_NOFILE (soft to hard; hard too with CAP_SYS_RESOURCE)
// only when root is "/": a test's fake tree is the only thing it touches.
apply_outcome apply_fixes(const std::vector<check_line>& lines, const kernel_limits& limits,
                          const std::string& root);

}  // namespace horde::sysctl
