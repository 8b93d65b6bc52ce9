// A feeder file parsed (users.csv → {user}, {password}): RFC 4180 CSV whose
// header row names the columns, each a template variable. Parsed once on the
// cold path; fields are then read by (row, column) with no allocation.
//
// Accepted: quoted fields with "" escapes (commas and line breaks inside),
// CRLF, LF or a lone CR between records, a trailing line break or none, a
// UTF-8 byte order mark before the header, blank lines (skipped; a one-column
// empty value is written ""). Refused, each naming the line: a row with more
// or fewer fields than the header, a quote inside an unquoted field, text
// after a closing quote, an unterminated quote, and the limits below.
//
// Memory: every field back to back in one string plus a 4-byte end offset
// per field, so 1M rows of two 10-byte columns take about 28 MB.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hh"

namespace horde::proto {

class csv_table {
 public:
  static constexpr size_t max_columns = 64;
  static constexpr size_t max_field_size = 4096;
  static constexpr size_t default_max_rows = 10'000'000;

  // Parses a whole file. Header names must be valid, unreserved variable
  // names (proto/var_template.hh) and unique; data rows past max_rows are an
  // error, not truncated. A file with a header and no rows parses (rows() 0).
  static result<csv_table> parse(std::string_view text, size_t max_rows = default_max_rows);

  csv_table() = default;

  // The header: column names, in file order; usable as var_template's known.
  const std::vector<std::string>& columns() const noexcept { return _columns; }
  size_t column_count() const noexcept { return _columns.size(); }
  // Data rows, the header not counted.
  size_t rows() const noexcept { return _rows; }
  // The index of a named column.
  std::optional<size_t> column(std::string_view name) const noexcept;

  // A field's unescaped bytes; needs row < rows() and col < column_count().
  std::string_view field(size_t row, size_t col) const noexcept {
    const size_t i = row * _columns.size() + col;
    const size_t begin = i == 0 ? 0 : _ends[i - 1];
    return std::string_view(_data).substr(begin, _ends[i] - begin);
  }
  // Fills out[c] with field(row, c) for every column (out.size() >=
  // column_count()), ready to serve as var_values::user.
  void row_values(size_t row, std::span<std::string_view> out) const noexcept;

 private:
  std::vector<std::string> _columns;
  std::string _data;            // every data field's bytes, row by row
  std::vector<uint32_t> _ends;  // end offset in _data of field row * columns + col
  size_t _rows = 0;
};

}  // namespace horde::proto
