// proto/ against a WebSocket stack no one here wrote: Python `websockets`
// (Debian's python3-websockets) on loopback, driven through plain blocking
// sockets so that only the protocol layer is under test.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "proto/accept_key.hh"
#include "proto/mask_source.hh"
#include "proto/upgrade_request.hh"
#include "proto/upgrade_response.hh"
#include "proto/ws_session.hh"
#include "tests/support/child_process.hh"
#include "tests/support/event_recorder.hh"
#include "tests/support/process_run.hh"

namespace horde::proto {
namespace {

bool python_has_websockets() {
  return test::run_process({HORDE_PYTHON, "-c", "import websockets"}, 20000).exit_code == 0;
}

// Events are kept; bytes go straight to the socket (blocking).
struct socket_sink final : test::event_recorder {
  int fd = -1;

  void write(std::span<const uint8_t> bytes) override {
    size_t off = 0;
    while (off < bytes.size()) {
      const ssize_t n = ::send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return;
      off += size_t(n);
    }
  }
};

class python_peer : public testing::Test {
 protected:
  void start(std::vector<std::string> extra = {}) {
    if (!python_has_websockets()) GTEST_SKIP() << HORDE_PYTHON << " lacks python3-websockets";
    std::vector<std::string> argv = {
        HORDE_PYTHON, std::string(HORDE_SOURCE_DIR) + "/tests/peers/python_ws_server.py"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    _server = std::make_unique<test::child_process>(argv);
    auto line = _server->read_line(15000);
    ASSERT_TRUE(line) << "the python server did not print its port";
    const int port = std::stoi(*line);

    _sink.fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(uint16_t(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(connect(_sink.fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);

    auto request =
        upgrade_request_template::make({"127.0.0.1", uint16_t(port), false, "/echo"}, {});
    ASSERT_TRUE(request);
    uint8_t random[16];
    _masks.fill(random, sizeof random);
    char key[ws_key_length];
    encode_ws_key(random, key);
    const std::string text = request->render(std::string_view(key, sizeof key));
    _sink.write({reinterpret_cast<const uint8_t*>(text.data()), text.size()});

    upgrade_response_parser parser;
    parser.reset(accept_key_for(std::string_view(key, sizeof key)), nullptr);
    std::string leftover;
    parse_status status = parse_status::need_more;
    while (status == parse_status::need_more) {
      std::string chunk = receive();
      ASSERT_FALSE(chunk.empty()) << "the server closed during the handshake";
      size_t consumed = 0;
      status = parser.feed(chunk, consumed);
      leftover = chunk.substr(consumed);
    }
    ASSERT_TRUE(parser.accepted()) << to_string(parser.failure()) << " " << parser.status_code();
    if (!leftover.empty()) feed(leftover);
  }

  void TearDown() override {
    if (_sink.fd >= 0) close(_sink.fd);
    _session.reset(_env);
  }

  std::string receive(int timeout_ms = 5000) {
    pollfd p{_sink.fd, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0) return {};
    char buffer[65536];
    const ssize_t n = recv(_sink.fd, buffer, sizeof buffer, 0);
    return n > 0 ? std::string(buffer, size_t(n)) : std::string();
  }

  ws_state feed(const std::string& bytes) {
    return _session.feed(_env, {reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()},
                         _sink);
  }

  // Reads until done() or the peer goes quiet for 5 s; drops the wslay
  // context at every boundary, as the engine does.
  void pump(const std::function<bool()>& done) {
    while (!done()) {
      const std::string chunk = receive();
      if (chunk.empty()) return;
      if (feed(chunk) != ws_state::open) return;
      _session.release_context(_env);
    }
  }

  ws_state send(ws_opcode op, const std::string& body) {
    return _session.send(_env, op, {reinterpret_cast<const uint8_t*>(body.data()), body.size()},
                         _sink);
  }

  std::unique_ptr<test::child_process> _server;
  mask_source _masks;
  ws_shard_env _env{ws_role::client, ws_limits{}, _masks};
  ws_session _session;
  socket_sink _sink;
};

TEST_F(python_peer, echoes_text_and_binary_of_every_length_class) {
  start();
  if (IsSkipped()) return;
  std::vector<std::pair<ws_opcode, std::string>> sent;
  for (size_t size : {size_t(0), size_t(1), size_t(125), size_t(126), size_t(65535), size_t(65536),
                      size_t(200000), size_t(1) << 20}) {
    std::string body(size, 'a');
    for (size_t i = 0; i < size; ++i)
      body[i] = char('a' + i % 26);
    sent.emplace_back(ws_opcode::text, body);
    std::string raw(size, '\0');
    for (size_t i = 0; i < size; ++i)
      raw[i] = char(i * 7);
    sent.emplace_back(ws_opcode::binary, raw);
  }
  for (const auto& [op, body] : sent) {
    ASSERT_EQ(send(op, body), ws_state::open);
    _session.release_context(_env);
  }
  pump([&] { return _sink.messages.size() >= sent.size(); });
  ASSERT_EQ(_sink.messages.size(), sent.size());
  for (size_t i = 0; i < sent.size(); ++i) {
    EXPECT_EQ(_sink.messages[i].first, sent[i].first) << i;
    EXPECT_EQ(_sink.messages[i].second, sent[i].second) << i;
  }
}

TEST_F(python_peer, reassembles_fragmented_messages) {
  start({"--fragment", "100"});
  if (IsSkipped()) return;
  const std::string body(1050, 'z');
  ASSERT_EQ(send(ws_opcode::text, body), ws_state::open);
  ASSERT_EQ(send(ws_opcode::binary, body), ws_state::open);
  pump([&] { return _sink.messages.size() >= 2; });
  ASSERT_EQ(_sink.messages.size(), 2u);
  EXPECT_EQ(_sink.messages[0], std::make_pair(ws_opcode::text, body));
  EXPECT_EQ(_sink.messages[1], std::make_pair(ws_opcode::binary, body));
}

TEST_F(python_peer, ping_gets_its_pong) {
  start();
  if (IsSkipped()) return;
  const std::string body = "are you there";
  ASSERT_EQ(
      _session.ping(_env, {reinterpret_cast<const uint8_t*>(body.data()), body.size()}, _sink),
      ws_state::open);
  pump([&] { return !_sink.pongs.empty(); });
  ASSERT_EQ(_sink.pongs.size(), 1u);
  EXPECT_EQ(_sink.pongs[0], body);
}

TEST_F(python_peer, close_from_the_server_carries_code_and_reason) {
  start({"--close-after", "2"});
  if (IsSkipped()) return;
  send(ws_opcode::text, "one");
  send(ws_opcode::text, "two");
  pump([&] { return _session.state() != ws_state::open; });
  EXPECT_EQ(_session.state(), ws_state::closed);
  ASSERT_EQ(_sink.closes.size(), 1u);
  EXPECT_EQ(_sink.closes[0], std::make_pair(uint16_t(4000), std::string("enough")));
  EXPECT_EQ(_sink.messages.size(), 2u);
}

TEST_F(python_peer, close_from_us_is_completed_by_the_server) {
  start();
  if (IsSkipped()) return;
  EXPECT_EQ(_session.close(_env, 1000, "done", _sink), ws_state::closing);
  pump([&] { return _session.state() != ws_state::closing; });
  while (_session.state() == ws_state::closing) {
    const std::string chunk = receive();
    if (chunk.empty()) break;
    feed(chunk);
  }
  EXPECT_EQ(_session.state(), ws_state::closed);
  ASSERT_EQ(_sink.closes.size(), 1u);
  EXPECT_EQ(_sink.closes[0].first, 1000);
}

}  // namespace
}  // namespace horde::proto
