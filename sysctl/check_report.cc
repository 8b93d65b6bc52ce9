// Text renderings of check lines: the tune table and the sysctl.d file.
#include "sysctl/check_report.hh"

#include <algorithm>
#include <array>

namespace horde::sysctl {
namespace {

void pad_to(std::string& out, const std::string& cell, size_t width) {
  out += cell;
  out.append(width - std::min(width, cell.size()) + 2, ' ');
}

const check_line* find_knob(const std::vector<check_line>& lines, const char* knob) {
  for (const check_line& line : lines) {
    if (line.knob == knob) return &line;
  }
  return nullptr;
}

}  // namespace

std::string render_table(const std::vector<check_line>& lines) {
  std::array<size_t, 4> width = {7, 4, 7, 6};  // at least the headers
  for (const check_line& line : lines) {
    width[0] = std::max(width[0], std::string(verdict_name(line.verdict)).size());
    width[1] = std::max(width[1], line.knob.size());
    width[2] = std::max(width[2], line.current.size());
    width[3] = std::max(width[3], line.needed.size());
  }
  std::string out;
  auto row = [&](const std::string& a, const std::string& b, const std::string& c,
                 const std::string& d, const std::string& e) {
    pad_to(out, a, width[0]);
    pad_to(out, b, width[1]);
    pad_to(out, c, width[2]);
    pad_to(out, d, width[3]);
    out += e;
    out += '\n';
  };
  row("verdict", "knob", "current", "needed", "formula");
  for (const check_line& line : lines) {
    row(verdict_name(line.verdict), line.knob, line.current, line.needed, line.formula);
    if (line.verdict == verdict::ok) continue;
    if (!line.fix.empty()) out += "    fix: " + line.fix + "\n";
    if (!line.note.empty()) out += "    note: " + line.note + "\n";
  }
  return out;
}

std::string sysctl_conf_text(const std::vector<check_line>& lines) {
  std::string out =
      "# Written by horde tune: the sysctls this plan needs raised.\n"
      "# Install: cp this file /etc/sysctl.d/90-horde.conf && sysctl --system\n";
  bool any = false;
  for (const check_line& line : lines) {
    if (line.verdict == verdict::ok || line.proc_sys_path.empty() || line.raise_to.empty()) {
      continue;
    }
    out += "\n# " + line.knob + ": needs " + line.needed + " (now " + line.current +
           "): " + line.formula + "\n";
    out += sysctl_name(line.proc_sys_path) + " = " + line.raise_to + "\n";
    any = true;
  }
  if (!any) out += "\n# Every sysctl already allows this plan.\n";

  // Descriptor limits are per process, set where the process starts.
  const check_line* nofile = find_knob(lines, "RLIMIT_NOFILE");
  const std::string limit =
      nofile && !nofile->raise_to.empty() ? nofile->raise_to : std::string("1048576");
  out +=
      "\n# RLIMIT_NOFILE is per process, not a sysctl; set it where horde starts.\n"
      "# /etc/security/limits.conf (login sessions, pam_limits):\n"
      "#   *  soft  nofile  " +
      limit +
      "\n"
      "#   *  hard  nofile  " +
      limit +
      "\n"
      "# systemd unit, [Service] section:\n"
      "#   LimitNOFILE=" +
      limit + "\n";
  const check_line* memlock = find_knob(lines, "RLIMIT_MEMLOCK");
  if (memlock && memlock->verdict != verdict::ok) {
    out += "#   LimitMEMLOCK=infinity\n";
  }
  const check_line* thp = find_knob(lines, "transparent_hugepage");
  if (thp && thp->verdict != verdict::ok) {
    out +=
        "\n# transparent_hugepage is not a sysctl: add transparent_hugepage=madvise to the\n"
        "# kernel command line, or at boot: " +
        thp->fix + "\n";
  }
  return out;
}

}  // namespace horde::sysctl
