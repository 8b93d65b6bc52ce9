#include "proto/csv_table.hh"

#include <gtest/gtest.h>

#include "proto/var_template.hh"

namespace horde::proto {
namespace {

csv_table parsed(std::string_view text, size_t max_rows = csv_table::default_max_rows) {
  auto t = csv_table::parse(text, max_rows);
  EXPECT_TRUE(t) << t.error().message;
  return t ? std::move(*t) : csv_table();
}

std::string error_of(std::string_view text, size_t max_rows = csv_table::default_max_rows) {
  auto t = csv_table::parse(text, max_rows);
  EXPECT_FALSE(t) << text << " parsed";
  return t ? std::string() : t.error().message;
}

TEST(csv_table, header_names_the_columns) {
  auto t = parsed("user,password\nalice,secret1\nbob,secret2\n");
  ASSERT_EQ(t.column_count(), 2u);
  EXPECT_EQ(t.columns()[0], "user");
  EXPECT_EQ(t.columns()[1], "password");
  EXPECT_EQ(t.column("password"), 1u);
  EXPECT_FALSE(t.column("token"));
  ASSERT_EQ(t.rows(), 2u);
  EXPECT_EQ(t.field(0, 0), "alice");
  EXPECT_EQ(t.field(0, 1), "secret1");
  EXPECT_EQ(t.field(1, 0), "bob");
  EXPECT_EQ(t.field(1, 1), "secret2");
}

TEST(csv_table, quoted_fields_hold_commas_quotes_and_line_breaks) {
  auto t = parsed("a,b\r\n\"x,y\",\"say \"\"hi\"\"\"\r\n\"two\r\nlines\",\"\"\r\n");
  ASSERT_EQ(t.rows(), 2u);
  EXPECT_EQ(t.field(0, 0), "x,y");
  EXPECT_EQ(t.field(0, 1), "say \"hi\"");
  EXPECT_EQ(t.field(1, 0), "two\r\nlines");
  EXPECT_EQ(t.field(1, 1), "");
}

TEST(csv_table, line_endings_and_the_last_newline) {
  for (std::string_view text :
       {"a,b\n1,2\n3,4", "a,b\r\n1,2\r\n3,4\r\n", "a,b\r1,2\r3,4\r", "a,b\n1,2\n\n3,4\n\n\n",
        "\xef\xbb\xbf"
        "a,b\n1,2\n3,4\n"}) {
    auto t = parsed(text);
    EXPECT_EQ(t.columns()[0], "a") << text;
    ASSERT_EQ(t.rows(), 2u) << text;
    EXPECT_EQ(t.field(0, 0), "1");
    EXPECT_EQ(t.field(1, 1), "4");
  }
}

TEST(csv_table, empty_fields_and_trailing_commas) {
  auto t = parsed("a,b,c\n,,\n1,,\n");
  ASSERT_EQ(t.rows(), 2u);
  EXPECT_EQ(t.field(0, 0), "");
  EXPECT_EQ(t.field(0, 2), "");
  EXPECT_EQ(t.field(1, 0), "1");
  EXPECT_EQ(t.field(1, 2), "");
  // One column: a blank line is skipped, an empty value is written "".
  auto one = parsed("token\nabc\n\n\"\"\n");
  ASSERT_EQ(one.rows(), 2u);
  EXPECT_EQ(one.field(1, 0), "");
  // A header alone is a table with no rows.
  EXPECT_EQ(parsed("user\n").rows(), 0u);
}

TEST(csv_table, ragged_rows_are_refused_with_their_line) {
  EXPECT_EQ(error_of("a,b\n1,2\n3\n"), "line 3: 1 field, the header has 2");
  EXPECT_EQ(error_of("a,b\r\n1,2\r\n\r\n3,4,5\r\n"), "line 4: 3 fields, the header has 2");
  // Lines inside a quoted field count.
  EXPECT_EQ(error_of("a,b\n\"1\n2\",3\n4\n"), "line 4: 1 field, the header has 2");
}

TEST(csv_table, bad_quoting_is_refused_with_its_line) {
  EXPECT_NE(error_of("a\n\"open\n").find("line 2: a quoted field is never closed"),
            std::string::npos);
  EXPECT_NE(error_of("a\nx\n\"ab\"c\n").find("line 3, field 1: text after a closing quote"),
            std::string::npos);
  EXPECT_NE(error_of("a,b\n1,ab\"c\n").find("line 2, field 2: a quote inside an unquoted field"),
            std::string::npos);
}

TEST(csv_table, header_names_must_be_variable_names_and_unique) {
  EXPECT_NE(error_of("").find("no header row"), std::string::npos);
  EXPECT_NE(error_of("\n\r\n").find("no header row"), std::string::npos);
  EXPECT_NE(error_of("user,pass word\n").find("line 1, field 2: column name 'pass word'"),
            std::string::npos);
  EXPECT_NE(error_of("user,\n").find("field 2: column name ''"), std::string::npos);
  EXPECT_NE(error_of("user,user\n").find("appears twice"), std::string::npos);
  EXPECT_NE(error_of("user,seq\n").find("builtin"), std::string::npos);
  // A quoted header is unquoted first.
  auto t = parsed("\"user\",\"tenant.id\"\nu,t\n");
  EXPECT_EQ(t.columns()[1], "tenant.id");
}

TEST(csv_table, limits) {
  std::string header;
  for (int c = 0; c < 64; ++c)
    header += (c ? ",c" : "c") + std::to_string(c);
  EXPECT_EQ(parsed(header + "\n").column_count(), 64u);
  EXPECT_NE(error_of(header + ",c64\n").find("65 columns; at most 64"), std::string::npos);

  const std::string longest(csv_table::max_field_size, 'x');
  EXPECT_EQ(parsed("a\n" + longest + "\n").field(0, 0).size(), csv_table::max_field_size);
  EXPECT_NE(error_of("a\n1\n\"" + longest + "x\"\n").find("line 3, field 1: 4097 bytes"),
            std::string::npos);

  EXPECT_EQ(parsed("a\n1\n2\n3\n", 3).rows(), 3u);
  EXPECT_NE(error_of("a\n1\n2\n3\n4\n", 3).find("line 5: more than 3 data rows"),
            std::string::npos);
}

TEST(csv_table, many_rows_in_one_buffer) {
  std::string text = "user,n\n";
  for (int r = 0; r < 100000; ++r)
    text += "user" + std::to_string(r) + "," + std::to_string(r * 7) + "\n";
  auto t = parsed(text);
  ASSERT_EQ(t.rows(), 100000u);
  EXPECT_EQ(t.field(0, 0), "user0");
  EXPECT_EQ(t.field(99999, 0), "user99999");
  EXPECT_EQ(t.field(99999, 1), std::to_string(99999 * 7));
}

TEST(csv_table, feeds_a_var_template) {
  auto t = parsed("user,password\nalice,s1\nbob,s2\n");
  auto body = var_template::parse(R"({"u":"{user}","p":"{password}","n":{conn}})", t.columns());
  ASSERT_TRUE(body) << body.error().message;
  std::string_view values[csv_table::max_columns];
  t.row_values(1, values);
  var_values v;
  v.conn = 1;
  v.user = std::span<const std::string_view>(values, t.column_count());
  std::string out;
  body->render(out, v);
  EXPECT_EQ(out, R"({"u":"bob","p":"s2","n":1})");
}

}  // namespace
}  // namespace horde::proto
