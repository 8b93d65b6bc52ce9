#include "proto/csv_table.hh"

#include <algorithm>
#include <limits>

#include "proto/var_template.hh"

namespace horde::proto {
namespace {

bool is_line_break(char ch) noexcept {
  return ch == '\r' || ch == '\n';
}

// Line breaks in a run of bytes: LF, CRLF and a lone CR each count once.
size_t count_breaks(std::string_view s) noexcept {
  size_t n = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\n') ++n;
    if (s[i] == '\r' && (i + 1 == s.size() || s[i + 1] != '\n')) ++n;
  }
  return n;
}

// Reads one record at a time: each field's unescaped bytes are appended to
// out and its end offset to ends, so the header and the data rows share the
// code and data fields are written once, straight into the table.
class record_reader {
 public:
  explicit record_reader(std::string_view text) noexcept : _text(text) {
    if (_text.starts_with("\xef\xbb\xbf")) _pos = 3;  // a UTF-8 BOM, as Excel writes
  }

  // Skips blank lines; false at the end of the text.
  bool at_record() noexcept {
    while (_pos < _text.size() && is_line_break(_text[_pos]))
      skip_break();
    return _pos < _text.size();
  }
  size_t line() const noexcept { return _line; }

  // Reads the record at the current position; fields is how many it had.
  result<void> read(std::string& out, std::vector<uint32_t>& ends, size_t& fields) {
    fields = 0;
    const size_t record_line = _line;
    for (;;) {
      const size_t field_begin = out.size();
      if (_pos < _text.size() && _text[_pos] == '"') {
        const size_t quote_line = _line;
        ++_pos;
        for (;;) {
          const size_t quote = _text.find('"', _pos);
          if (quote == std::string_view::npos) {
            return make_error("line " + std::to_string(quote_line) +
                              ": a quoted field is never closed (a missing '\"'?)");
          }
          const std::string_view piece = _text.substr(_pos, quote - _pos);
          _line += count_breaks(piece);
          out.append(piece);
          _pos = quote + 1;
          if (_pos < _text.size() && _text[_pos] == '"') {  // "" is one quote
            out += '"';
            ++_pos;
            continue;
          }
          break;
        }
        if (_pos < _text.size() && _text[_pos] != ',' && !is_line_break(_text[_pos])) {
          return make_error("line " + std::to_string(_line) + ", field " +
                            std::to_string(fields + 1) +
                            ": text after a closing quote; a quote inside a quoted field is "
                            "written \"\"");
        }
      } else {
        size_t end = _pos;
        while (end < _text.size() && _text[end] != ',' && !is_line_break(_text[end])) {
          if (_text[end] == '"') {
            return make_error("line " + std::to_string(_line) + ", field " +
                              std::to_string(fields + 1) +
                              ": a quote inside an unquoted field; quote the whole field and "
                              "write the quote as \"\" (RFC 4180)");
          }
          ++end;
        }
        out.append(_text.substr(_pos, end - _pos));
        _pos = end;
      }
      ++fields;
      if (out.size() - field_begin > csv_table::max_field_size) {
        return make_error("line " + std::to_string(record_line) + ", field " +
                          std::to_string(fields) + ": " + std::to_string(out.size() - field_begin) +
                          " bytes; a field holds at " + "most " +
                          std::to_string(csv_table::max_field_size));
      }
      ends.push_back(uint32_t(out.size()));
      if (_pos == _text.size()) return {};
      if (_text[_pos] != ',') {
        skip_break();
        return {};
      }
      ++_pos;  // a ',' at the end of a line opens an empty last field
    }
  }

 private:
  void skip_break() noexcept {
    if (_text[_pos] == '\r' && _pos + 1 < _text.size() && _text[_pos + 1] == '\n') ++_pos;
    ++_pos;
    ++_line;
  }

  std::string_view _text;
  size_t _pos = 0;
  size_t _line = 1;
};

}  // namespace

result<csv_table> csv_table::parse(std::string_view text, size_t max_rows) {
  // Field ends are 4-byte offsets (memory: a 1M-row feeder); the data is
  // never longer than the text.
  if (text.size() > std::numeric_limits<uint32_t>::max())
    return make_error("CSV of " + std::to_string(text.size()) + " bytes; at most 4 GiB");

  record_reader reader(text);
  if (!reader.at_record())
    return make_error(
        "CSV has no header row: the first line names the columns, e.g. user,password");

  csv_table t;
  {
    const size_t header_line = reader.line();
    std::string names;
    std::vector<uint32_t> ends;
    size_t fields = 0;
    if (auto r = reader.read(names, ends, fields); !r) return r.error();
    if (fields > max_columns) {
      return make_error("line " + std::to_string(header_line) + ": " + std::to_string(fields) +
                        " columns; at most " + std::to_string(max_columns));
    }
    for (size_t c = 0; c < fields; ++c) {
      const size_t begin = c == 0 ? 0 : ends[c - 1];
      std::string name = names.substr(begin, ends[c] - begin);
      const std::string where =
          "line " + std::to_string(header_line) + ", field " + std::to_string(c + 1);
      if (!is_variable_name(name)) {
        return make_error(where + ": column name '" + name +
                          "' is not a variable name: use letters, digits, '_', '-' and '.', "
                          "starting with a letter or '_'");
      }
      if (is_reserved_variable_name(name)) {
        return make_error(where + ": column name '" + name +
                          "' is a builtin template variable; rename the column");
      }
      if (std::find(t._columns.begin(), t._columns.end(), name) != t._columns.end())
        return make_error(where + ": column name '" + name + "' appears twice");
      t._columns.push_back(std::move(name));
    }
  }

  // Unescaping only shrinks, so one reservation holds every field; the line
  // count bounds the rows (quoted line breaks only make it an overestimate).
  const size_t columns = t._columns.size();
  t._data.reserve(text.size());
  const size_t lines = size_t(std::count(text.begin(), text.end(), '\n')) + 1;
  t._ends.reserve(std::min(lines, max_rows) * columns);

  while (reader.at_record()) {
    const size_t line = reader.line();
    if (t._rows == max_rows) {
      return make_error("line " + std::to_string(line) + ": more than " + std::to_string(max_rows) +
                        " data rows; raise the row limit or split "
                        "the file");
    }
    size_t fields = 0;
    if (auto r = reader.read(t._data, t._ends, fields); !r) return r.error();
    if (fields != columns) {
      return make_error("line " + std::to_string(line) + ": " + std::to_string(fields) +
                        (fields == 1 ? " field" : " fields") + ", the header has " +
                        std::to_string(columns));
    }
    ++t._rows;
  }
  t._data.shrink_to_fit();
  t._ends.shrink_to_fit();
  return t;
}

std::optional<size_t> csv_table::column(std::string_view name) const noexcept {
  auto found = std::find(_columns.begin(), _columns.end(), name);
  if (found == _columns.end()) return std::nullopt;
  return size_t(found - _columns.begin());
}

void csv_table::row_values(size_t row, std::span<std::string_view> out) const noexcept {
  for (size_t c = 0; c < _columns.size() && c < out.size(); ++c)
    out[c] = field(row, c);
}

}  // namespace horde::proto
