#include "proto/var_template.hh"

#include <gtest/gtest.h>

#include <charconv>
#include <set>
#include <vector>

namespace horde::proto {
namespace {

const std::vector<std::string> no_vars;
const std::vector<std::string> session_vars = {"user", "session_id", "tenant.name"};

var_template parsed(std::string_view text, std::span<const std::string> known = no_vars) {
  auto t = var_template::parse(text, known);
  EXPECT_TRUE(t) << text << ": " << t.error().message;
  return t ? std::move(*t) : var_template();
}

std::string rendered(const var_template& t, const var_values& v) {
  std::string out;
  t.render(out, v);
  return out;
}

std::string error_of(std::string_view text, std::span<const std::string> known = no_vars) {
  auto t = var_template::parse(text, known);
  EXPECT_FALSE(t) << text << " parsed";
  return t ? std::string() : t.error().message;
}

uint64_t as_number(std::string_view s) {
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  EXPECT_TRUE(ec == std::errc() && end == s.data() + s.size()) << s;
  return n;
}

TEST(var_template, conn_and_seq_render_the_callers_numbers) {
  auto t = parsed("ws://h/c{conn}/r{seq}");
  var_values v;
  v.conn = 2999999;
  v.seq = 18446744073709551615ull;
  EXPECT_EQ(rendered(t, v), "ws://h/c2999999/r18446744073709551615");
  EXPECT_TRUE(t.uses("conn"));
  EXPECT_TRUE(t.uses("seq"));
  EXPECT_FALSE(t.uses("uuid"));
  EXPECT_FALSE(t.needs_clock());
  EXPECT_FALSE(t.needs_random());
  EXPECT_FALSE(t.constant());
  EXPECT_EQ(t.literal_size(), std::string("ws://h/c/r").size());
  EXPECT_EQ(t.source(), "ws://h/c{conn}/r{seq}");
}

TEST(var_template, user_variables_fill_from_the_values_of_known) {
  auto t = parsed("/login?u={user}&t={tenant.name}&u2={user}", session_vars);
  ASSERT_EQ(t.user_vars().size(), 2u);  // each used variable once, in order of first use
  EXPECT_EQ(t.user_vars()[0], 0);
  EXPECT_EQ(t.user_vars()[1], 2);
  EXPECT_TRUE(t.uses("user"));
  EXPECT_TRUE(t.uses("tenant.name"));
  EXPECT_FALSE(t.uses("session_id"));
  const std::string_view values[] = {"alice", "s-1", "acme"};
  var_values v;
  v.user = values;
  EXPECT_EQ(rendered(t, v), "/login?u=alice&t=acme&u2=alice");
  // A value the caller did not supply renders empty rather than reading past the span.
  v.user = std::span<const std::string_view>(values, 1);
  EXPECT_EQ(rendered(t, v), "/login?u=alice&t=&u2=alice");
}

TEST(var_template, render_appends_to_what_is_there) {
  auto t = parsed("n={seq};");
  std::string out = "prefix:";
  var_values v;
  v.seq = 1;
  t.render(out, v);
  v.seq = 22;
  t.render(out, v);
  EXPECT_EQ(out, "prefix:n=1;n=22;");
}

TEST(var_template, rand_stays_in_range_and_covers_it) {
  auto t = parsed("{rand:7}");
  EXPECT_TRUE(t.needs_random());
  EXPECT_TRUE(t.uses("rand"));
  uint64_t state = 0;  // zero is a valid state
  var_values v;
  v.random_state = &state;
  std::set<uint64_t> seen;
  for (int i = 0; i < 2000; ++i) {
    const uint64_t n = as_number(rendered(t, v));
    ASSERT_LT(n, 7u);
    seen.insert(n);
  }
  EXPECT_EQ(seen.size(), 7u);
  EXPECT_NE(state, 0u);  // the caller's state advanced

  auto one = parsed("{rand:1}");
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(rendered(one, v), "0");

  // The largest bound: values spread over the whole range, so the top bit shows.
  auto huge = parsed("{rand:9223372036854775808}");
  bool high = false;
  for (int i = 0; i < 64; ++i) {
    const uint64_t n = as_number(rendered(huge, v));
    ASSERT_LT(n, uint64_t(1) << 63);
    high |= n >= uint64_t(1) << 62;
  }
  EXPECT_TRUE(high);
}

TEST(var_template, rand_is_roughly_uniform) {
  auto t = parsed("{rand:10}");
  uint64_t state = 42;
  var_values v;
  v.random_state = &state;
  int counts[10] = {};
  const int draws = 100000;
  for (int i = 0; i < draws; ++i)
    ++counts[as_number(rendered(t, v))];
  for (int c : counts) {
    EXPECT_GT(c, draws / 10 * 9 / 10);
    EXPECT_LT(c, draws / 10 * 11 / 10);
  }
}

TEST(var_template, without_a_random_state_renders_are_deterministic) {
  auto t = parsed("{uuid} {rand:1000000}");
  var_values v;
  v.conn = 5;
  v.seq = 9;
  const std::string first = rendered(t, v);
  EXPECT_EQ(rendered(t, v), first);
  v.seq = 10;
  EXPECT_NE(rendered(t, v), first);
}

TEST(var_template, uuid_is_a_version_4_rfc_variant_uuid) {
  auto t = parsed("{uuid}");
  uint64_t state = 7;
  var_values v;
  v.random_state = &state;
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    const std::string u = rendered(t, v);
    ASSERT_EQ(u.size(), 36u) << u;
    for (size_t k = 0; k < u.size(); ++k) {
      if (k == 8 || k == 13 || k == 18 || k == 23) {
        ASSERT_EQ(u[k], '-') << u;
      } else {
        ASSERT_TRUE((u[k] >= '0' && u[k] <= '9') || (u[k] >= 'a' && u[k] <= 'f')) << u;
      }
    }
    EXPECT_EQ(u[14], '4') << u;                                          // version
    EXPECT_NE(std::string("89ab").find(u[19]), std::string::npos) << u;  // variant 10xx
    seen.insert(u);
  }
  EXPECT_EQ(seen.size(), 200u);
}

TEST(var_template, clock_builtins_use_realtime) {
  auto t = parsed(R"({"iat":{now},"exp":{now+3600},"nbf":{now-60},"ms":{now_ms}})");
  EXPECT_TRUE(t.needs_clock());
  EXPECT_FALSE(t.needs_random());
  EXPECT_TRUE(t.uses("now"));
  EXPECT_TRUE(t.uses("now_ms"));
  var_values v;
  v.realtime_ns = 1'700'000'000'123'456'789;
  EXPECT_EQ(rendered(t, v),
            R"({"iat":1700000000,"exp":1700003600,"nbf":1699999940,"ms":1700000000123})");
  // now-N before the epoch is a negative number, not a wrapped one.
  auto early = parsed("{now-100}");
  v.realtime_ns = 50'000'000'000;
  EXPECT_EQ(rendered(early, v), "-50");
  auto zero = parsed("{now+0}");
  EXPECT_EQ(rendered(zero, v), "50");
}

TEST(var_template, json_and_other_braces_are_literal) {
  const std::string json = R"({"a":1,"b":{"c":[{}]}} { x} {} {0} {-1} {1.5} {a:b} {x+y} {)";
  auto t = parsed(json);
  EXPECT_TRUE(t.constant());
  EXPECT_EQ(t.literal_size(), json.size());
  EXPECT_EQ(rendered(t, {}), json);

  auto mixed = parsed(R"({"id":"{uuid}","n":{seq}} {{seq}})");
  var_values v;
  v.seq = 3;
  const std::string out = rendered(mixed, v);
  EXPECT_EQ(out.substr(0, 7), R"({"id":")");
  EXPECT_EQ(out.substr(43), R"(","n":3} {3})");
}

TEST(var_template, unknown_variables_name_the_column_and_the_nearest_name) {
  EXPECT_EQ(error_of("/s?id=x&s={sesion_id}", session_vars),
            "unknown variable {sesion_id} at column 11 (did you mean {session_id}?)");
  EXPECT_EQ(error_of("{usr}", session_vars),
            "unknown variable {usr} at column 1 (did you mean {user}?)");
  // Builtins are suggestions too.
  EXPECT_EQ(error_of("x{sqe}"), "unknown variable {sqe} at column 2 (did you mean {seq}?)");
  EXPECT_EQ(error_of("{uid}"), "unknown variable {uid} at column 1 (did you mean {uuid}?)");
  EXPECT_EQ(error_of("{rnd}"), "unknown variable {rnd} at column 1 (did you mean {rand:N}?)");
  // Nothing near: the message lists what there is.
  const std::string far = error_of("{password}", session_vars);
  EXPECT_NE(far.find("unknown variable {password} at column 1"), std::string::npos) << far;
  EXPECT_NE(far.find("{session_id}"), std::string::npos) << far;
  EXPECT_NE(far.find("{now+N}"), std::string::npos) << far;
  EXPECT_EQ(far.find("did you mean"), std::string::npos) << far;
}

TEST(var_template, builtin_arguments_are_checked) {
  EXPECT_NE(error_of("{rand}").find("needs a bound"), std::string::npos);
  EXPECT_NE(error_of("a{rand:0}").find("{rand:0} at column 2"), std::string::npos);
  EXPECT_FALSE(var_template::parse("{rand:}", no_vars));
  EXPECT_FALSE(var_template::parse("{rand:x}", no_vars));
  EXPECT_FALSE(var_template::parse("{rand:9223372036854775809}", no_vars));
  EXPECT_FALSE(var_template::parse("{rand:99999999999999999999999}", no_vars));
  EXPECT_NE(error_of("{now+1h}").find("{now+1h} at column 1"), std::string::npos);
  EXPECT_FALSE(var_template::parse("{now-}", no_vars));
  EXPECT_FALSE(var_template::parse("{now+10000000001}", no_vars));
  EXPECT_TRUE(var_template::parse("{now+10000000000}", no_vars));
}

TEST(var_template, known_names_must_be_valid_unreserved_and_unique) {
  const std::vector<std::string> shadow = {"user", "seq"};
  EXPECT_NE(error_of("x", shadow).find("{seq}"), std::string::npos);
  const std::vector<std::string> twice = {"user", "user"};
  EXPECT_NE(error_of("x", twice).find("twice"), std::string::npos);
  const std::vector<std::string> spaced = {"first name"};
  EXPECT_NE(error_of("x", spaced).find("'first name'"), std::string::npos);
  const std::vector<std::string> clocky = {"now-ish"};
  EXPECT_FALSE(var_template::parse("x", clocky));
}

TEST(var_template, names_and_builtins) {
  EXPECT_TRUE(is_variable_name("a"));
  EXPECT_TRUE(is_variable_name("_a-b.c9"));
  EXPECT_FALSE(is_variable_name(""));
  EXPECT_FALSE(is_variable_name("9a"));
  EXPECT_FALSE(is_variable_name("-a"));
  EXPECT_FALSE(is_variable_name("a b"));
  EXPECT_FALSE(is_variable_name("a:b"));
  EXPECT_TRUE(is_reserved_variable_name("conn"));
  EXPECT_TRUE(is_reserved_variable_name("now+5"));
  EXPECT_FALSE(is_reserved_variable_name("connection"));
  const auto names = var_template::builtin_names();
  EXPECT_EQ(names.size(), 8u);
  EXPECT_EQ(names.front(), "{conn}");
}

TEST(var_template, empty_and_default_templates_render_nothing) {
  auto t = parsed("");
  EXPECT_TRUE(t.constant());
  EXPECT_EQ(rendered(t, {}), "");
  var_template d;
  EXPECT_TRUE(d.constant());
  EXPECT_EQ(rendered(d, {}), "");
}

}  // namespace
}  // namespace horde::proto
