// What `horde tune` prints and writes from the planner's check lines: the
// table for a person, and a sysctl.d file (with the limits.conf and systemd
// lines as comments) for a persistent setup. Text only; no I/O.
#pragma once

#include <string>
#include <vector>

#include "sysctl/planner.hh"

namespace horde::sysctl {

// Aligned columns (verdict, knob, current, needed, formula), one row per
// line; under each line that is not ok, indented "fix:" and "note:" lines.
std::string render_table(const std::vector<check_line>& lines);

// A sysctl.d file setting every sysctl a line wants raised, each preceded by
// its formula, then limits.conf and systemd LimitNOFILE= lines as comments.
std::string sysctl_conf_text(const std::vector<check_line>& lines);

}  // namespace horde::sysctl
