#include "core/http_steps.hh"

#include <algorithm>
#include <charconv>

#include "core/clock.hh"
#include "proto/http_token.hh"

namespace horde::core {

bool http_steps::render(uint32_t slot, size_t step, std::string& out) noexcept {
  const http_step_plan& s = _plan.http_steps[step];
  proto::var_values values;
  values.conn = _vars.conn_id(slot);
  values.realtime_ns = int64_t(realtime_ns());
  values.random_state = &_random_state;
  if (!_vars.empty()) values.user = _vars.values(slot);
  // A value with a space, CR, LF or NUL in the request-target, or a line
  // break in a header, would inject a line: refused.
  _line.clear();
  s.target.render(_line, values);
  if (proto::breaks_request_target(_line)) return false;
  out += s.method;
  out += ' ';
  out += _line;
  out += " HTTP/1.1\r\nHost: ";
  out += s.host;
  out += "\r\n";
  for (const auto& header : s.headers) {
    const size_t line_start = out.size();
    header.render(out, values);
    if (proto::breaks_header_line(std::string_view(out).substr(line_start))) return false;
    out += "\r\n";
  }
  _line.clear();
  s.body.render(_line, values);
  if (!_line.empty() || s.method == "POST" || s.method == "PUT" || s.method == "PATCH") {
    char digits[24];
    const auto end = std::to_chars(digits, digits + sizeof digits, _line.size()).ptr;
    out += "Content-Length: ";
    out.append(digits, end);
    out += "\r\n";
  }
  out += "Connection: keep-alive\r\n\r\n";
  out += _line;
  return true;
}

std::optional<failure_reason> http_steps::judge(uint32_t slot, size_t step,
                                                const proto::http_response_parser& answer,
                                                uint64_t elapsed_ns) noexcept {
  const http_step_plan& s = _plan.http_steps[step];
  if (s.latency != no_metric) _metrics.latency.named[s.latency].record(elapsed_ns);
  const int status = answer.status_code();
  // The step's own statuses by class (the run's http_status are the upgrade's).
  if (status >= 100 && status < 600 && s.status_class != no_metric)
    _metrics.counters.named[s.status_class + uint32_t(status / 100 - 1)].add();
  const bool expected = s.expect.empty()
                            ? status >= 200 && status < 300
                            : std::find(s.expect.begin(), s.expect.end(), status) != s.expect.end();
  if (!expected) {
    count(s.failed);
    return failure_reason::http_step_status;
  }
  for (const http_capture& capture : s.captures) {
    std::string_view value;
    bool found = false;
    if (capture.from_header) {
      if (auto h = answer.header(capture.header)) {
        value = *h;
        found = true;
      }
    } else {
      const proto::json_scalar v = _reader.get(answer.body(), capture.json);
      found = v.kind == proto::json_value_kind::string ||
              v.kind == proto::json_value_kind::number || v.kind == proto::json_value_kind::boolean;
      value = v.text;
    }
    if (!found) {
      count(s.failed);
      return failure_reason::http_capture_missing;
    }
    _vars.set(slot, capture.stored_index, value);
  }
  count(s.ok);
  return std::nullopt;
}

void http_steps::count_failed(size_t step) noexcept {
  count(_plan.http_steps[step].failed);
}

}  // namespace horde::core
