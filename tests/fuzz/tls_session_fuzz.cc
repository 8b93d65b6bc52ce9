// Fuzzes a TLS client session (proto/tls_session.hh) with what a server
// sends after our ClientHello: no handshake can complete (the fuzzer cannot
// forge a Finished), so every path through OpenSSL's record layer, handshake
// parsing and certificate decoding must end in handshaking or failed.
//
// Input: a control byte, then the server's bytes.
//   bit 0     the context is insecure (no chain or name check), else verifying
//             against the system store
//   bit 1     offer TLS 1.2 only (its handshake is plaintext up to Finished, so
//             the fuzzer reaches certificate and key exchange parsing)
//   bits 2-4  how the bytes are split into feeds: all at once, or pieces of
//             1, 2, 3, 5, 8, 13 or 64 bytes
//   bit 5     try write_plain and shutdown between feeds (refused until open)
// Checked: every call returns state(); the state is handshaking or failed and
// a failed session stays failed, silent and without plaintext; a failure has
// a category other than none or local (the server's bytes are never our own
// failure) and a reason; reset() returns the session to closed.
// The corpus holds real server flights for both versions, recorded from the
// tests' in-memory server (certificates only, no keys).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "proto/tls_session.hh"
#include "tests/fuzz/fuzz_support.hh"

namespace {

using namespace horde::proto;

constexpr size_t piece_sizes[8] = {0 /* all at once */, 1, 2, 3, 5, 8, 13, 64};

class counting_sink final : public tls_sink {
 public:
  void on_plaintext(std::span<const uint8_t> bytes) override { plaintext += bytes.size(); }
  void write(std::span<const uint8_t> bytes) override { written += bytes.size(); }

  size_t plaintext = 0, written = 0;
};

// Built once: a context per (insecure, TLS 1.2 only).
tls_context& context_for(bool insecure, bool tls12_only) {
  static std::unique_ptr<tls_context> contexts[4];
  std::unique_ptr<tls_context>& slot = contexts[(insecure ? 1 : 0) + (tls12_only ? 2 : 0)];
  if (!slot) {
    tls_options options;
    options.insecure = insecure;
    if (tls12_only) options.max_version = tls_version::tls1_2;
    auto made = tls_context::make(options);
    HORDE_FUZZ_CHECK(made.has_value());
    slot = std::move(made.value());
  }
  return *slot;
}

void check_state(const tls_session& session, tls_state before, tls_state returned) {
  HORDE_FUZZ_CHECK(returned == session.state());
  HORDE_FUZZ_CHECK(returned == tls_state::handshaking || returned == tls_state::failed);
  if (before == tls_state::failed) HORDE_FUZZ_CHECK(returned == tls_state::failed);
  if (returned == tls_state::failed) {
    HORDE_FUZZ_CHECK(session.failure() != tls_failure::none);
    HORDE_FUZZ_CHECK(session.failure() != tls_failure::local);
    HORDE_FUZZ_CHECK(!session.failure_text().empty());
  } else {
    HORDE_FUZZ_CHECK(session.failure() == tls_failure::none);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t control = data[0];
  const bool insecure = (control & 1) != 0;
  const bool tls12_only = (control & 2) != 0;
  const size_t piece_size = piece_sizes[(control >> 2) & 7];
  const bool act = (control & 0x20) != 0;

  tls_context& context = context_for(insecure, tls12_only);
  tls_session session;
  counting_sink sink;
  HORDE_FUZZ_CHECK(session.start(context, "localhost", sink) == tls_state::handshaking);
  HORDE_FUZZ_CHECK(sink.written > 0);  // the ClientHello

  std::span<const uint8_t> rest(data + 1, size - 1);
  while (!rest.empty()) {
    const size_t n = piece_size == 0 ? rest.size() : std::min(piece_size, rest.size());
    const tls_state before = session.state();
    const size_t written_before = sink.written;
    check_state(session, before, session.feed(rest.first(n), sink));
    if (before == tls_state::failed) HORDE_FUZZ_CHECK(sink.written == written_before);
    rest = rest.subspan(n);
    if (act) {
      const tls_state now = session.state();
      const size_t written_now = sink.written;
      check_state(session, now, session.write_plain(rest.first(rest.empty() ? 0 : 1), sink));
      check_state(session, now, session.shutdown(sink));
      HORDE_FUZZ_CHECK(sink.written == written_now);  // nothing goes out before open
    }
  }
  HORDE_FUZZ_CHECK(sink.plaintext == 0);

  session.reset();
  HORDE_FUZZ_CHECK(session.state() == tls_state::closed);
  HORDE_FUZZ_CHECK(session.failure() == tls_failure::none);
  return 0;
}
