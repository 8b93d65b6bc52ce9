// Fuzzes the feeder CSV parser (proto/csv_table.hh): the first byte sets the
// row limit (0: the default), the rest is the file. Checked:
//  - parse never crashes; a failure has a message;
//  - a parsed table keeps its limits: 1 to 64 columns, each a distinct
//    variable name, no more rows than allowed, no field over 4096 bytes, and
//    no more field bytes than the text had;
//  - writing the table back out, every field quoted, parses to the same
//    table.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "proto/csv_table.hh"
#include "proto/var_template.hh"
#include "tests/fuzz/fuzz_support.hh"

using namespace horde::proto;

namespace {

void append_quoted(std::string& out, std::string_view field) {
  out += '"';
  for (char ch : field) {
    if (ch == '"') out += '"';
    out += ch;
  }
  out += '"';
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t max_rows = data[0] == 0 ? csv_table::default_max_rows : data[0];
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);

  auto t = csv_table::parse(text, max_rows);
  if (!t) {
    HORDE_FUZZ_CHECK(!t.error().message.empty());
    return 0;
  }
  const size_t columns = t->column_count();
  HORDE_FUZZ_CHECK(columns >= 1 && columns <= csv_table::max_columns);
  HORDE_FUZZ_CHECK(t->rows() <= max_rows);
  for (size_t c = 0; c < columns; ++c) {
    HORDE_FUZZ_CHECK(is_variable_name(t->columns()[c]));
    HORDE_FUZZ_CHECK(t->column(t->columns()[c]) == c);
  }
  size_t total = 0;
  for (size_t r = 0; r < t->rows(); ++r) {
    for (size_t c = 0; c < columns; ++c) {
      const size_t n = t->field(r, c).size();
      HORDE_FUZZ_CHECK(n <= csv_table::max_field_size);
      total += n;
    }
  }
  HORDE_FUZZ_CHECK(total <= text.size());

  std::string written;
  for (size_t c = 0; c < columns; ++c) {
    if (c) written += ',';
    append_quoted(written, t->columns()[c]);
  }
  written += "\r\n";
  for (size_t r = 0; r < t->rows(); ++r) {
    for (size_t c = 0; c < columns; ++c) {
      if (c) written += ',';
      append_quoted(written, t->field(r, c));
    }
    written += "\r\n";
  }
  auto back = csv_table::parse(written, max_rows);
  HORDE_FUZZ_CHECK(back.has_value());
  HORDE_FUZZ_CHECK(back->columns() == t->columns());
  HORDE_FUZZ_CHECK(back->rows() == t->rows());
  for (size_t r = 0; r < t->rows(); ++r)
    for (size_t c = 0; c < columns; ++c)
      HORDE_FUZZ_CHECK(back->field(r, c) == t->field(r, c));
  return 0;
}
