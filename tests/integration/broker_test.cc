// The pub/sub broker of `horde serve` (docs/pubsub.md) from the outside: the
// real binary with two shards, and blocking WebSocket clients built on
// proto/ over plain sockets. Connections land on the shards by SO_REUSEPORT's
// hash, so with a dozen of them both shards hold subscribers and publishers
// and forwarding between shards is exercised. Every wait has a deadline.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "proto/accept_key.hh"
#include "proto/mask_source.hh"
#include "proto/upgrade_request.hh"
#include "proto/upgrade_response.hh"
#include "proto/ws_session.hh"
#include "tests/support/child_process.hh"
#include "tests/support/event_recorder.hh"

namespace horde {
namespace {

using proto::ws_opcode;
using clock_type = std::chrono::steady_clock;

const std::string horde_binary = HORDE_BINARY;

// A WebSocket client on a blocking socket: what the session writes goes
// straight to the socket; what arrives is fed to the session by pump().
class client final : public test::event_recorder {
 public:
  explicit client(proto::ws_shard_env& env) : _env(env) {}
  ~client() {
    if (_fd >= 0) close(_fd);
    _session.reset(_env);
  }

  // Connects and completes the opening handshake; empty string on success.
  std::string open(uint16_t port) {
    _fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int one = 1;
    setsockopt(_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    // A blocking send never outlives a test: a server that stopped reading
    // fails it after a few seconds instead of hanging the run.
    const timeval limit{5, 0};
    setsockopt(_fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(_fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
      return "connect failed";
    auto request = proto::upgrade_request_template::make({"127.0.0.1", port, false, "/"}, {});
    if (!request) return request.error().message;
    uint8_t random[16];
    _masks.fill(random, sizeof random);
    char key[proto::ws_key_length];
    proto::encode_ws_key(random, key);
    const std::string text = request->render(std::string_view(key, sizeof key));
    write({reinterpret_cast<const uint8_t*>(text.data()), text.size()});
    proto::upgrade_response_parser parser;
    parser.reset(proto::accept_key_for(std::string_view(key, sizeof key)), nullptr);
    auto status = proto::parse_status::need_more;
    std::string chunk;
    size_t consumed = 0;
    while (status == proto::parse_status::need_more) {
      chunk = receive(5000);
      if (chunk.empty()) return "closed during the handshake";
      status = parser.feed(chunk, consumed);
    }
    if (!parser.accepted()) return std::string(proto::to_string(parser.failure()));
    if (consumed < chunk.size()) feed(chunk.substr(consumed));
    return {};
  }

  void send(ws_opcode opcode, std::string_view body) {
    _session.send(_env, opcode, {reinterpret_cast<const uint8_t*>(body.data()), body.size()},
                  *this);
    _session.release_context(_env);
  }
  void send_text(std::string_view body) { send(ws_opcode::text, body); }

  int fd() const { return _fd; }
  bool closed() const { return _closed; }
  bool paused = false;  // pump_until leaves it alone (a subscriber that stopped reading)
  bool write_failed = false;

  // Reads what is there (waiting up to timeout_ms for something) and feeds it.
  void pump(int timeout_ms) {
    const std::string chunk = receive(timeout_ms);
    if (!chunk.empty()) feed(chunk);
  }

  void write(std::span<const uint8_t> bytes) override {
    size_t off = 0;
    while (off < bytes.size()) {
      const ssize_t n = ::send(_fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
      if (n <= 0) {
        write_failed = true;
        return;
      }
      off += size_t(n);
    }
  }

  // The bodies received so far, from index `from` on.
  std::vector<std::string> texts(size_t from = 0) const {
    std::vector<std::string> out;
    for (size_t i = from; i < messages.size(); ++i)
      out.push_back(messages[i].second);
    return out;
  }

 private:
  std::string receive(int timeout_ms) {
    pollfd p{_fd, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0) return {};
    char buffer[65536];
    const ssize_t n = recv(_fd, buffer, sizeof buffer, 0);
    if (n <= 0) {
      _closed = true;
      return {};
    }
    return std::string(buffer, size_t(n));
  }

  void feed(const std::string& bytes) {
    _session.feed(_env, {reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}, *this);
    _session.release_context(_env);
  }

  proto::ws_shard_env& _env;
  proto::mask_source _masks;
  proto::ws_session _session;
  int _fd = -1;
  bool _closed = false;
};

// `horde serve` on a kernel-picked port; stop() ends it and returns the
// broker's counters from its last line ("broker: subscribes 6 ...").
class broker_server {
 public:
  explicit broker_server(std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {horde_binary, "serve", "--listen",          "127.0.0.1:0",
                                     "--shards",   "2",     "--max-connections", "1000"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    _process = std::make_unique<test::child_process>(argv);
    auto line = _process->read_line(10000);
    if (!line) return;
    const size_t colon = line->find("127.0.0.1:");
    if (colon != std::string::npos) port = uint16_t(std::stoi(line->substr(colon + 10)));
  }

  std::map<std::string, uint64_t> stop() {
    _process->signal(SIGTERM);
    std::map<std::string, uint64_t> counters;
    while (auto line = _process->read_line(5000)) {
      if (line->rfind("broker: ", 0) != 0) continue;
      std::istringstream words(line->substr(8));
      std::string word, key;
      while (words >> word) {
        if (!word.empty() && std::isdigit(uint8_t(word[0]))) {
          counters[key] = std::stoull(word);
          key.clear();
        } else {
          key += (key.empty() ? "" : " ") + word;
        }
      }
    }
    return counters;
  }

  uint16_t port = 0;

 private:
  std::unique_ptr<test::child_process> _process;
};

struct fixture : testing::Test {
  proto::mask_source masks;
  proto::ws_shard_env env{proto::ws_role::client, proto::ws_limits{64u << 20}, masks};
  std::vector<std::unique_ptr<client>> clients;

  client& connect(uint16_t port) {
    clients.push_back(std::make_unique<client>(env));
    const std::string failure = clients.back()->open(port);
    EXPECT_EQ(failure, "");
    return *clients.back();
  }

  // Pumps every client until done() or the deadline; false on the deadline.
  bool pump_until(const std::function<bool()>& done, int timeout_ms = 5000) {
    const auto deadline = clock_type::now() + std::chrono::milliseconds(timeout_ms);
    while (!done()) {
      if (clock_type::now() >= deadline) return false;
      std::vector<pollfd> fds;
      for (auto& c : clients)
        fds.push_back({c->closed() || c->paused ? -1 : c->fd(), POLLIN, 0});
      if (poll(fds.data(), fds.size(), 20) <= 0) continue;
      for (size_t i = 0; i < fds.size(); ++i) {
        if (fds[i].revents != 0) clients[i]->pump(0);
      }
    }
    return true;
  }

  // Pumps until nothing has arrived for quiet_ms (or the deadline).
  void pump_until_quiet(int quiet_ms = 300, int timeout_ms = 5000) {
    const auto deadline = clock_type::now() + std::chrono::milliseconds(timeout_ms);
    size_t seen = received();
    auto last_change = clock_type::now();
    while (clock_type::now() < deadline &&
           clock_type::now() - last_change < std::chrono::milliseconds(quiet_ms)) {
      pump_until([] { return false; }, 20);
      if (received() != seen) {
        seen = received();
        last_change = clock_type::now();
      }
    }
  }

  size_t received() const {
    size_t n = 0;
    for (const auto& c : clients)
      n += c->messages.size();
    return n;
  }

  // Subscribes and waits for the answer.
  void subscribe(client& c, const std::string& group) {
    const size_t before = c.messages.size();
    c.send_text("sub " + group);
    ASSERT_TRUE(pump_until([&] { return c.messages.size() > before; }));
    ASSERT_EQ(c.messages[before].second, "ok sub " + group);
  }
};

std::string group_name(int g) {
  return "room-" + std::to_string(g);
}

// Payload of publish n of group g; some are large enough to cross shards in
// fragments and to fill a publish ring (256 KiB) several times over.
std::string payload_of(int g, int n) {
  std::string p = std::to_string(g) + ":" + std::to_string(n);
  if (n % 25 == 24) p += std::string(300000, char('a' + n % 26));
  return p;
}

using BrokerServe = fixture;

TEST_F(BrokerServe, EverySubscriberGetsItsGroupsMessagesInOrder) {
  broker_server server;
  ASSERT_NE(server.port, 0);
  constexpr int groups = 3, subscribers = 9, publishes = 100;
  // Connections 0..8 subscribe: c to room-(c%3), and even ones to room-((c+1)%3) too.
  std::vector<std::vector<int>> groups_of(subscribers);
  for (int c = 0; c < subscribers; ++c) {
    client& sub = connect(server.port);
    groups_of[c].push_back(c % groups);
    if (c % 2 == 0) groups_of[c].push_back((c + 1) % groups);
    for (int g : groups_of[c])
      subscribe(sub, group_name(g));
  }
  // Three publishers, one per group; the first is subscribed to its own group.
  std::vector<client*> publishers;
  for (int g = 0; g < groups; ++g)
    publishers.push_back(&connect(server.port));
  subscribe(*publishers[0], group_name(0));
  size_t subscriptions = 1;
  for (const auto& gs : groups_of)
    subscriptions += gs.size();

  // Interleaved; room-2 is published in binary (deliveries keep the opcode).
  for (int n = 0; n < publishes; ++n) {
    for (int g = 0; g < groups; ++g) {
      publishers[size_t(g)]->send(g == 2 ? ws_opcode::binary : ws_opcode::text,
                                  "pub " + group_name(g) + " " + payload_of(g, n));
    }
  }
  // Expected, per subscriber: its groups' messages, each group in order.
  const auto expected_count = [&](size_t c) {
    return c < size_t(subscribers) ? groups_of[c].size() * publishes + groups_of[c].size()
                                   : (c == size_t(subscribers) ? size_t(publishes) + 1 : 0);
  };
  ASSERT_TRUE(pump_until([&] {
    for (size_t c = 0; c < clients.size(); ++c) {
      if (clients[c]->messages.size() < expected_count(c)) return false;
    }
    return true;
  }));
  pump_until_quiet(200);

  for (size_t c = 0; c < clients.size(); ++c) {
    const auto& messages = clients[c]->messages;
    ASSERT_EQ(messages.size(), expected_count(c)) << "client " << c;
    std::vector<int> mine = c < size_t(subscribers) ? groups_of[c] : std::vector<int>{};
    if (c == size_t(subscribers)) mine = {0};
    std::map<int, int> next;  // group -> next n expected
    for (const auto& [opcode, body] : messages) {
      if (body.rfind("ok sub ", 0) == 0) continue;
      ASSERT_EQ(body.rfind("msg room-", 0), 0u) << body.substr(0, 40);
      const int g = body[9] - '0';
      ASSERT_NE(std::find(mine.begin(), mine.end(), g), mine.end()) << "client " << c;
      EXPECT_EQ(opcode, g == 2 ? ws_opcode::binary : ws_opcode::text);
      const int n = next[g]++;
      ASSERT_EQ(body, "msg " + group_name(g) + " " + payload_of(g, n)) << "client " << c;
    }
    for (int g : mine)
      EXPECT_EQ(next[g], publishes) << "client " << c << " group " << g;
  }

  // Echo still works next to the broker.
  clients[0]->send_text("hello there");
  ASSERT_TRUE(pump_until([&] { return clients[0]->messages.back().second == "hello there"; }));

  // All gone: the shards drop every subscription and group.
  const size_t deliveries = received() - subscriptions - 1;  // minus ok answers and the echo
  clients.clear();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto counters = server.stop();
  EXPECT_EQ(counters["subscribes"], subscriptions);
  EXPECT_EQ(counters["publishes"], uint64_t(groups * publishes));
  EXPECT_EQ(counters["deliveries"], deliveries);
  EXPECT_EQ(counters["dropped"], 0u);
  EXPECT_EQ(counters["command errors"], 0u);
  EXPECT_EQ(counters["groups"], 0u);
  EXPECT_EQ(counters["subscriptions"], 0u);
}

// Every 10th delivery a shard would make is dropped: what the subscribers
// miss is exactly what the counters say, and what arrives is in order.
TEST_F(BrokerServe, DropEveryLosesExactlyWhatTheCountersSay) {
  broker_server server({"--drop-every", "10"});
  ASSERT_NE(server.port, 0);
  constexpr int subscribers = 8, publishes = 100;
  for (int c = 0; c < subscribers; ++c)
    subscribe(connect(server.port), group_name(c % 2));
  client& publisher_a = connect(server.port);
  client& publisher_b = connect(server.port);
  for (int n = 0; n < publishes; ++n) {
    publisher_a.send_text("pub room-0 " + std::to_string(n));
    publisher_b.send_text("pub room-1 " + std::to_string(n));
  }
  const size_t expected = size_t(subscribers) * publishes;
  // At least nine in ten arrive (plus the ok answers); then wait for quiet.
  pump_until([&] { return received() >= subscribers + expected - expected / 10; });
  pump_until_quiet(300);
  size_t delivered = 0;
  for (int c = 0; c < subscribers; ++c) {
    int last = -1;
    for (const auto& body : clients[size_t(c)]->texts(1)) {
      const std::string prefix = "msg " + group_name(c % 2) + " ";
      ASSERT_EQ(body.rfind(prefix, 0), 0u) << body;
      const int n = std::stoi(body.substr(prefix.size()));
      EXPECT_GT(n, last) << "client " << c;
      last = n;
      ++delivered;
    }
  }
  auto counters = server.stop();
  EXPECT_EQ(counters["deliveries"], delivered);
  EXPECT_EQ(counters["dropped"] + delivered, expected);
  // Each shard drops every 10th of its own: about a tenth in all.
  EXPECT_GE(counters["dropped"], expected / 10 - 2);
  EXPECT_LE(counters["dropped"], expected / 10);
}

TEST_F(BrokerServe, DuplicateEverySendsThoseTwice) {
  broker_server server({"--duplicate-every", "7"});
  ASSERT_NE(server.port, 0);
  for (int c = 0; c < 6; ++c)
    subscribe(connect(server.port), "dup");
  client& publisher = connect(server.port);
  for (int n = 0; n < 50; ++n)
    publisher.send_text("pub dup " + std::to_string(n));
  pump_until([&] { return received() >= 6 + 6 * 50; });
  pump_until_quiet(300);
  const size_t received_now = received() - 6;  // minus the ok answers
  auto counters = server.stop();
  EXPECT_EQ(counters["deliveries"], received_now);
  EXPECT_EQ(received_now, 6u * 50 + counters["duplicated"]);
  EXPECT_GT(counters["duplicated"], 0u);
}

TEST_F(BrokerServe, AnswersOkAndErrAndKeepsTheConnection) {
  broker_server server;
  ASSERT_NE(server.port, 0);
  client& c = connect(server.port);
  client& other = connect(server.port);
  const std::vector<std::pair<std::string, std::string>> exchanges = {
      {"sub news", "ok sub news"},
      {"sub news", "ok sub news"},  // twice: one subscription, still answered
      {"unsub nothing", "ok unsub nothing"},
      {"sub ", "err empty group name"},
      {"sub two words", "err space in group name"},
      {"sub " + std::string(201, 'x'), "err group name over 200 bytes"},
      {"sub tab\there", "err control byte in group name"},
      {"pub news", "err pub wants: pub G PAYLOAD"},
      {"pub  x", "err empty group name"},
      {"publish news x", "publish news x"},  // not a command: echoed
      {"sub", "sub"},
  };
  for (const auto& [sent, answer] : exchanges) {
    const size_t before = c.messages.size();
    c.send_text(sent);
    ASSERT_TRUE(pump_until([&] { return c.messages.size() > before; })) << sent;
    EXPECT_EQ(c.messages[before].second, answer) << sent;
    EXPECT_EQ(c.messages[before].first, ws_opcode::text);
  }
  // Binary commands are answered in binary.
  c.send(ws_opcode::binary, "sub bin");
  ASSERT_TRUE(pump_until([&] { return c.messages.back().second == "ok sub bin"; }));
  EXPECT_EQ(c.messages.back().first, ws_opcode::binary);

  // A publisher not subscribed hears nothing; after `ok unsub` nothing more arrives.
  other.send_text("pub news first");
  ASSERT_TRUE(pump_until([&] { return c.messages.back().second == "msg news first"; }));
  c.send_text("unsub news");
  ASSERT_TRUE(pump_until([&] { return c.messages.back().second == "ok unsub news"; }));
  other.send_text("pub news second");
  other.send_text("ping-through-echo");
  ASSERT_TRUE(pump_until([&] { return !other.messages.empty(); }));
  EXPECT_EQ(other.texts(), std::vector<std::string>{"ping-through-echo"});
  pump_until_quiet(200);
  EXPECT_EQ(c.messages.back().second, "ok unsub news");
  EXPECT_FALSE(c.closed());

  auto counters = server.stop();
  EXPECT_EQ(counters["command errors"], 6u);
  EXPECT_EQ(counters["subscribes"], 3u);
  EXPECT_EQ(counters["unsubscribes"], 2u);
  EXPECT_EQ(counters["publishes"], 2u);
  EXPECT_EQ(counters["deliveries"], 1u);
}

// A subscriber that stops reading is dropped once 16 MiB wait for it; the
// others keep getting everything. The stalled connection publishes to its own
// group, so its backlog grows on its own shard as the server reads it, and it
// is dropped long before its 40 MiB are all written.
TEST_F(BrokerServe, ASlowConsumerIsDisconnected) {
  broker_server server;
  ASSERT_NE(server.port, 0);
  client& witness = connect(server.port);
  subscribe(witness, "firehose");
  client& stalled = connect(server.port);
  subscribe(stalled, "firehose");
  stalled.paused = true;
  const std::string megabyte(1 << 20, 'z');
  // The witness reads as it goes (the test is one thread); the stalled
  // connection's writes fail once the server has dropped it.
  for (int n = 0; n < 40 && !stalled.write_failed; ++n) {
    stalled.send_text("pub firehose " + megabyte);
    pump_until([&] { return witness.messages.size() >= size_t(n) + 2; }, 500);
  }
  EXPECT_TRUE(stalled.write_failed);
  // What the server read before it dropped the connection reaches the witness.
  pump_until_quiet(300);
  // Drain the stalled socket by hand: what was in flight, then the close.
  bool closed = false;
  const auto deadline = clock_type::now() + std::chrono::seconds(10);
  std::vector<char> sink(1 << 20);
  while (!closed && clock_type::now() < deadline) {
    pollfd p{stalled.fd(), POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    closed = recv(stalled.fd(), sink.data(), sink.size(), 0) <= 0;
  }
  EXPECT_TRUE(closed);
  auto counters = server.stop();
  EXPECT_EQ(counters["slow consumers"], 1u);
  EXPECT_GT(counters["publishes"], 16u);
  EXPECT_EQ(witness.messages.size(), 1 + counters["publishes"]);
  EXPECT_FALSE(witness.closed());
}

}  // namespace
}  // namespace horde
