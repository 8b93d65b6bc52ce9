#include "core/http_publish.hh"

#include <algorithm>
#include <charconv>

#include "proto/http_token.hh"

namespace horde::core {

bool render_http_publish(const http_publish_plan& plan, const http_publish_origin& origin,
                         std::string_view group, std::string_view payload, std::string& out,
                         std::span<const std::string> run_values) {
  std::vector<std::string_view> values{group, payload};
  values.insert(values.end(), run_values.begin(), run_values.end());
  out += origin.method;
  out += ' ';
  const size_t target_start = out.size();
  origin.path.expand(out, values);
  if (proto::breaks_request_target(std::string_view(out).substr(target_start))) return false;
  out += " HTTP/1.1\r\nHost: ";
  out += origin.host;
  out += "\r\n";
  for (const auto& header : plan.headers) {
    const size_t line_start = out.size();
    header.expand(out, values);
    if (proto::breaks_header_line(std::string_view(out).substr(line_start))) return false;
    out += "\r\n";
  }
  // The body is rendered in place after a Content-Length of known width:
  // its size is the template's literals plus the values it holds.
  const size_t head_end = out.size();
  plan.body.expand(out, values);
  const size_t body_size = out.size() - head_end;
  char line[64] = "Content-Length: ";
  char* end = std::to_chars(line + 16, line + sizeof line - 4, body_size).ptr;
  end = std::copy_n("\r\n\r\n", 4, end);
  out.insert(head_end, line, size_t(end - line));
  return true;
}

bool http_publish_accepted(const http_publish_plan& plan, int status) noexcept {
  if (plan.expect.empty()) return status >= 200 && status < 300;
  return std::find(plan.expect.begin(), plan.expect.end(), status) != plan.expect.end();
}

}  // namespace horde::core
