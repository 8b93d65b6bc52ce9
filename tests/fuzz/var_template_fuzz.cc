// Fuzzes the variable template parser and renderer (proto/var_template.hh):
// the input is a template, then optionally a NUL and the known variable names
// one per line. Checked:
//  - parse never crashes; a failure has a message;
//  - a template with no holes renders exactly its source;
//  - render appends (what was in the output stays), never writes fewer bytes
//    than the literals, and with no random state is a function of its values;
//  - user_vars are valid, distinct indices into known, each one uses();
//  - with empty user values and only user holes, the output is the literals.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "proto/var_template.hh"
#include "tests/fuzz/fuzz_support.hh"

using namespace horde::proto;

namespace {

void check(const var_template& t, std::string_view text, std::span<const std::string> known) {
  HORDE_FUZZ_CHECK(t.source() == text);
  HORDE_FUZZ_CHECK(t.literal_size() <= text.size());

  std::vector<std::string_view> values(known.size());
  for (size_t i = 0; i < values.size(); ++i)
    values[i] = known[i];
  var_values v;
  v.conn = text.size();
  v.seq = horde::fuzz::mix(text.size());
  v.realtime_ns = int64_t(v.seq >> 2);
  v.user = values;

  std::string out = "prefix";
  t.render(out, v);
  HORDE_FUZZ_CHECK(out.starts_with("prefix"));
  HORDE_FUZZ_CHECK(out.size() - 6 >= t.literal_size());
  if (t.constant()) HORDE_FUZZ_CHECK(out.substr(6) == text);

  std::string again = "prefix";
  t.render(again, v);
  HORDE_FUZZ_CHECK(again == out);

  uint64_t state = v.seq;
  std::string drawn;
  v.random_state = &state;
  t.render(drawn, v);
  if (!t.needs_random()) HORDE_FUZZ_CHECK(state == v.seq && drawn == out.substr(6));

  auto used = t.user_vars();
  for (size_t i = 0; i < used.size(); ++i) {
    HORDE_FUZZ_CHECK(used[i] < known.size());
    HORDE_FUZZ_CHECK(std::count(used.begin(), used.end(), used[i]) == 1);
    HORDE_FUZZ_CHECK(t.uses(known[used[i]]));
  }

  const bool builtins = t.needs_clock() || t.needs_random() || t.uses("conn") || t.uses("seq");
  if (!builtins) {
    std::vector<std::string_view> empty(known.size());
    v.user = empty;
    std::string bare;
    t.render(bare, v);
    HORDE_FUZZ_CHECK(bare.size() == t.literal_size());
    if (used.empty()) HORDE_FUZZ_CHECK(t.constant());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t nul = input.find('\0');
  const std::string_view text = input.substr(0, nul);

  static const std::vector<std::string> session = {"user", "session_id", "tenant.name", "x"};
  auto t = var_template::parse(text, session);
  if (t) {
    check(*t, text, session);
  } else {
    HORDE_FUZZ_CHECK(!t.error().message.empty());
  }
  if (text.find('{') == std::string_view::npos) HORDE_FUZZ_CHECK(t && t->constant());

  if (nul == std::string_view::npos) return 0;
  std::vector<std::string> known;
  std::string_view rest = input.substr(nul + 1);
  while (!rest.empty() && known.size() < 100) {
    const size_t end = std::min(rest.find('\n'), rest.size());
    known.emplace_back(rest.substr(0, end));
    rest.remove_prefix(std::min(end + 1, rest.size()));
  }
  auto custom = var_template::parse(text, known);
  if (custom) {
    check(*custom, text, known);
  } else {
    HORDE_FUZZ_CHECK(!custom.error().message.empty());
  }
  return 0;
}
