#include "proto/json_fields.hh"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <string>
#include <vector>

namespace horde::proto {
namespace {

json_pointer ptr(std::string_view text) {
  auto p = json_pointer::parse(text);
  EXPECT_TRUE(p) << text;
  return p ? *p : json_pointer();
}

json_predicate pred(std::string_view text) {
  auto p = json_predicate::parse(text);
  EXPECT_TRUE(p) << text << ": " << (p ? "" : p.error().message);
  return p ? *p : json_predicate();
}

// Copies `text` so that its last byte is the last readable one: the next page
// is PROT_NONE, so any read past the message faults (picohttpparser's trick).
class guarded {
 public:
  explicit guarded(std::string_view text) {
    const size_t page = size_t(sysconf(_SC_PAGESIZE));
    _size = (text.size() / page + 2) * page;
    _base = static_cast<uint8_t*>(
        mmap(nullptr, _size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    EXPECT_NE(_base, MAP_FAILED);
    EXPECT_EQ(mprotect(_base + _size - page, page, PROT_NONE), 0);
    _bytes = {_base + _size - page - text.size(), text.size()};
    std::memcpy(const_cast<uint8_t*>(_bytes.data()), text.data(), text.size());
  }
  ~guarded() { munmap(_base, _size); }
  std::span<const uint8_t> bytes() const { return _bytes; }

 private:
  uint8_t* _base = nullptr;
  size_t _size = 0;
  std::span<const uint8_t> _bytes;
};

TEST(JsonPointer, ParsesTokensEscapesAndIndexes) {
  const json_pointer root = ptr("");
  EXPECT_EQ(root.size(), 0u);
  const json_pointer p = ptr("/a~1b/m~0n/0/10/01/-/");
  ASSERT_EQ(p.size(), 7u);
  EXPECT_EQ(p.token(0), "a/b");
  EXPECT_EQ(p.token(1), "m~n");
  EXPECT_EQ(p.index(2), 0);
  EXPECT_EQ(p.index(3), 10);
  EXPECT_EQ(p.index(4), -1);  // a leading zero is a key, not an index
  EXPECT_EQ(p.index(5), -1);
  EXPECT_EQ(p.token(6), "");  // "/" is the empty key
  EXPECT_EQ(p.text(), "/a~1b/m~0n/0/10/01/-/");
  for (std::string_view bad : {"id", "/a~", "/a~2", "#/a"}) {
    EXPECT_FALSE(json_pointer::parse(bad)) << bad;
  }
  std::string deep;
  for (size_t i = 0; i <= json_max_pointer_tokens; ++i)
    deep += "/a";
  EXPECT_FALSE(json_pointer::parse(deep));
}

TEST(JsonReader, ReadsEachKind) {
  json_reader reader;
  const std::string_view m =
      R"({"s":"plain","e":"a\"b\\c\u00e9\n","n":-1.5e3,"i":12345,"t":true,"f":false,)"
      R"("z":null,"o":{"k":[10,{"x":"deep"}]},"a":[],"a~b":1,"a/b":2,"\u0069d":7})";
  struct want {
    std::string_view pointer;
    json_value_kind kind;
    std::string_view text;
  };
  const want cases[] = {
      {"/s", json_value_kind::string, "plain"},
      {"/e", json_value_kind::string, "a\"b\\c\xc3\xa9\n"},
      {"/n", json_value_kind::number, "-1.5e3"},
      {"/i", json_value_kind::number, "12345"},
      {"/t", json_value_kind::boolean, "true"},
      {"/f", json_value_kind::boolean, "false"},
      {"/z", json_value_kind::null, "null"},
      {"/o", json_value_kind::object, ""},
      {"/o/k", json_value_kind::array, ""},
      {"/o/k/0", json_value_kind::number, "10"},
      {"/o/k/1/x", json_value_kind::string, "deep"},
      {"/o/k/2", json_value_kind::missing, ""},
      {"/o/k/x", json_value_kind::missing, ""},
      {"/o/k/0/x", json_value_kind::missing, ""},  // through a scalar
      {"/a", json_value_kind::array, ""},
      {"/a~0b", json_value_kind::number, "1"},
      {"/a~1b", json_value_kind::number, "2"},
      {"/id", json_value_kind::number, "7"},  // an escaped key matches unescaped
      {"/nope", json_value_kind::missing, ""},
      {"", json_value_kind::object, ""},
  };
  for (const want& c : cases) {
    const json_scalar v = reader.get(m, ptr(c.pointer));
    EXPECT_EQ(v.kind, c.kind) << c.pointer << " got " << to_string(v.kind);
    EXPECT_EQ(v.text, c.text) << c.pointer;
  }
  // A scalar document, and whitespace around it.
  EXPECT_EQ(reader.get(" 42 ", ptr("")).text, "42");
  EXPECT_EQ(reader.get("\"x\"", ptr("")).text, "x");
  EXPECT_EQ(reader.get("42", ptr("/a")).kind, json_value_kind::missing);
  // A root null or false with whitespace after it (found by the fuzzer:
  // simdjson's is_null() and get_bool() refuse them there).
  EXPECT_EQ(reader.get("null ", ptr("")).kind, json_value_kind::null);
  EXPECT_EQ(reader.get("null ", ptr("/id")).kind, json_value_kind::missing);
  EXPECT_EQ(reader.get("false\n\n", ptr("")).text, "false");
  EXPECT_EQ(reader.get("nul ", ptr("")).kind, json_value_kind::invalid_json);
}

TEST(JsonReader, GetManyReadsInOnePassInAnyOrder) {
  json_reader reader;
  const std::array<json_pointer, 2> id_code = {ptr("/id"), ptr("/error/code")};
  const std::array<json_pointer, 2> code_id = {ptr("/error/code"), ptr("/id")};
  const std::string_view ok = R"({"jsonrpc":"2.0","id":12345,"result":{"value":42}})";
  const std::string_view err =
      R"({"jsonrpc":"2.0","error":{"code":-32600,"message":"bad"},"id":"abc"})";
  std::array<json_scalar, 2> out;
  reader.get_many(ok, id_code, out);
  EXPECT_EQ(out[0].kind, json_value_kind::number);
  EXPECT_EQ(out[0].text, "12345");
  EXPECT_EQ(out[1].kind, json_value_kind::missing);
  reader.get_many(err, id_code, out);
  EXPECT_EQ(out[0].text, "abc");
  EXPECT_EQ(out[0].kind, json_value_kind::string);
  EXPECT_EQ(out[1].text, "-32600");
  reader.get_many(err, code_id, out);
  EXPECT_EQ(out[0].text, "-32600");
  EXPECT_EQ(out[1].text, "abc");

  // A pointer and its parent; the same pointer twice; duplicate keys (the
  // first wins); more pointers than one pass takes; fewer outputs than pointers.
  const std::string_view m = R"({"e":{"c":1,"c":2},"e":{"c":3},"l":[0,1,2,3,4,5,6,7,8,9]})";
  std::vector<json_pointer> many = {ptr("/e"), ptr("/e/c"), ptr("/e/c")};
  for (int i = 9; i >= 0; --i)
    many.push_back(ptr("/l/" + std::to_string(i)));
  std::vector<json_scalar> results(many.size());
  reader.get_many(m, many, results);
  EXPECT_EQ(results[0].kind, json_value_kind::object);
  EXPECT_EQ(results[1].text, "1");
  EXPECT_EQ(results[2].text, "1");
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(results[size_t(3 + i)].text, std::to_string(9 - i));
  std::array<json_scalar, 1> one;
  reader.get_many(m, many, one);
  EXPECT_EQ(one[0].kind, json_value_kind::object);
}

TEST(JsonReader, InvalidJsonIsReportedNeverCrashes) {
  json_reader reader;
  const json_pointer id = ptr("/id");
  for (std::string_view bad :
       {"", " ", "{", "{\"id\"", "{\"id\":", "{\"id\":12abc}", "{\"id\":tru}", "{\"id\":nul}",
        "{\"id\":-}", "{\"id\":01}", "{\"id\":\"abc}", "{id:1}", "[1,2", "\xff\xfe",
        "{\"id\":\"\xc3\x28\"}", "{\"id\":\"\\q\"}"}) {
    const json_scalar v = reader.get(bad, id);
    EXPECT_EQ(v.kind, json_value_kind::invalid_json) << bad << " got " << to_string(v.kind);
  }
  // Every prefix of a real message: a value or invalid_json, read inside the
  // message only (the guard page faults on any over-read).
  const std::string_view m = R"({"jsonrpc":"2.0","error":{"code":-32600},"id":"a\"b"})";
  const std::array<json_pointer, 2> both = {ptr("/id"), ptr("/error/code")};
  for (size_t n = 0; n <= m.size(); ++n) {
    const guarded g(m.substr(0, n));
    std::array<json_scalar, 2> out;
    reader.get_many(g.bytes(), both, out);
    if (n == m.size()) {
      EXPECT_EQ(out[0].text, "a\"b");
      EXPECT_EQ(out[1].text, "-32600");
    } else {
      EXPECT_NE(out[1].kind, json_value_kind::number) << n;  // the code needs more than a prefix
    }
  }
}

TEST(JsonReader, LazinessIsBoundedToWhatItWalks) {
  // Documented: On Demand does not validate past the last field it needs.
  json_reader reader;
  const json_scalar id = reader.get("{\"id\":1,]}", ptr("/id"));
  EXPECT_EQ(id.text, "1") << to_string(id.kind);
  EXPECT_EQ(reader.get("{\"x\":1,]}", ptr("/id")).kind, json_value_kind::invalid_json);
}

TEST(JsonReader, DeepNestingIsSkippedOrRefused) {
  json_reader reader;
  for (size_t depth : {100u, 2000u, 200000u}) {
    std::string deep = "{\"skip\":" + std::string(depth, '[') + std::string(depth, ']') +
                       ",\"id\":5,\"d\":" + std::string(depth, '[') + std::string(depth, ']') + "}";
    const json_scalar id = reader.get(deep, ptr("/id"));
    EXPECT_TRUE(id.kind == json_value_kind::number || id.kind == json_value_kind::invalid_json)
        << depth;
    if (depth <= 1000) {
      EXPECT_EQ(id.text, "5");
    }
    std::string path = "/d";
    for (size_t i = 1; i < json_max_pointer_tokens; ++i)
      path += "/0";
    EXPECT_NE(reader.get(deep, ptr(path)).kind, json_value_kind::number);
    std::string open(depth, '[');  // unbalanced
    EXPECT_EQ(reader.get(open, ptr("/0/0")).kind, json_value_kind::invalid_json);
  }
}

TEST(JsonReader, ParsesInPlaceWhenThePaddingIsVouchedFor) {
  json_reader reader;
  std::string buffer = R"({"type":"done","id":"x\ty"})";
  const size_t size = buffer.size();
  buffer.resize(size + json_padding, 'Z');  // what a receive buffer holds after a message
  const std::span<const uint8_t> message(reinterpret_cast<const uint8_t*>(buffer.data()), size);
  const json_scalar type = reader.get(message, ptr("/type"), json_padding);
  EXPECT_EQ(type.text, "done");
  // Zero-copy: an unescaped string views the message itself.
  EXPECT_EQ(type.text.data(), buffer.data() + 9);
  EXPECT_EQ(reader.get(message, ptr("/id"), json_padding).text, "x\ty");
  const json_scalar copied = reader.get(message, ptr("/type"));
  EXPECT_EQ(copied.text, "done");
  EXPECT_NE(copied.text.data(), buffer.data() + 9);
}

TEST(JsonReader, MessagesOfGrowingSizeReuseTheReader) {
  json_reader reader;
  for (size_t n : {10u, 5000u, 100u, 70000u, 3u}) {
    const std::string m = R"({"pad":")" + std::string(n, 'p') + R"(","id":9})";
    EXPECT_EQ(reader.get(m, ptr("/id")).text, "9") << n;
  }
}

TEST(JsonPredicate, ParsesAndMatches) {
  json_reader reader;
  const std::string_view done =
      R"({"type":"done","n":3,"f":2.5,"ok":true,"z":null,"big":9007199254740993})";
  struct c {
    std::string_view predicate;
    bool match;
  };
  const c cases[] = {
      {R"(/type == "done")", true},
      {R"(/type=="done")", true},
      {R"(/type != "done")", false},
      {R"(/type == "don")", false},
      {"/type == 3", false},  // kinds differ
      {"/n == 3", true},
      {"/n == 3.0", true},
      {"/n == 3e0", true},
      {"/n != 3", false},
      {"/n == \"3\"", false},
      {"/n < 4", true},
      {"/n <= 3", true},
      {"/n > 3", false},
      {"/n >= 3", true},
      {"/f > 2", true},
      {"/f < -1", false},
      {"/big == 9007199254740993", true},  // exact as integers
      {"/big == 9007199254740992", false},
      {"/ok == true", true},
      {"/ok == false", false},
      {"/z == null", true},
      {"/z exists", true},
      {"/nope exists", false},
      {"/nope != \"x\"", true},
      {"/nope == null", false},
      {"/type > 1", false},  // not a number
  };
  for (const c& t : cases) {
    EXPECT_EQ(reader.matches(done, pred(t.predicate)), t.match) << t.predicate;
  }
  // A predicate never matches what is not JSON, even with !=.
  EXPECT_FALSE(reader.matches("{\"type\":", pred("/type != \"done\"")));
  EXPECT_FALSE(reader.matches("", pred("/type exists")));
  for (std::string_view bad :
       {"type == 1", "/type", "/type ~ 1", "/type ==", "/type == done", "/type == \"a",
        "/type < \"a\"", "/type == {}", "/type == [1]", "/type == 1 2"}) {
    EXPECT_FALSE(json_predicate::parse(bad)) << bad;
  }
}

TEST(JsonScalar, EqualsRenderedIsTheCorrelationRule) {
  json_reader reader;
  const std::array<json_pointer, 1> id = {ptr("/id")};
  std::array<json_scalar, 1> out;
  reader.get_many(R"({"id":42})", id, out);
  EXPECT_TRUE(json_equals_rendered(out[0], "42"));
  reader.get_many(R"({"id":"42"})", id, out);
  EXPECT_TRUE(json_equals_rendered(out[0], "42"));
  reader.get_many(R"({"id":42.0})", id, out);
  EXPECT_FALSE(json_equals_rendered(out[0], "42"));
  reader.get_many(R"({"id":"4\u0032"})", id, out);
  EXPECT_TRUE(json_equals_rendered(out[0], "42"));
  reader.get_many(R"({"id":{}})", id, out);
  EXPECT_FALSE(json_equals_rendered(out[0], ""));
  EXPECT_FALSE(json_equals_rendered({json_value_kind::missing, {}}, ""));
  EXPECT_FALSE(json_equals_rendered({json_value_kind::invalid_json, {}}, ""));
}

}  // namespace
}  // namespace horde::proto
