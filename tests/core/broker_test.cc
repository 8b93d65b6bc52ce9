#include "core/broker.hh"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace horde::core {
namespace {

std::span<const uint8_t> bytes(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

std::string text(std::span<const uint8_t> b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

std::set<uint32_t> slots_of(const group_table& table, std::string_view group) {
  std::set<uint32_t> slots;
  for (const auto& s : table.subscribers(group))
    slots.insert(s.slot);
  return slots;
}

// ---- memory (first in the file: forked from a heap no test has used yet) ----

size_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  size_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * size_t(sysconf(_SC_PAGESIZE));
}

struct footprint {
  size_t accounted = 0;  // group_table::memory_bytes()
  size_t resident = 0;   // growth of RSS while the table was built
  size_t groups = 0;
  size_t subscriptions = 0;
};

// Builds a table in a child process (so RSS is not flattered by memory an
// earlier test freed) and reports its footprint.
template <class Build>
footprint measure(Build build) {
  int fds[2];
  if (pipe(fds) != 0) return {};
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    footprint f;
    const size_t before = resident_bytes();
    group_table table;
    build(table);
    f.resident = resident_bytes() - before;
    f.accounted = table.memory_bytes();
    f.groups = table.groups();
    f.subscriptions = table.subscriptions();
    const ssize_t written = write(fds[1], &f, sizeof f);
    _exit(written == ssize_t(sizeof f) ? 0 : 1);
  }
  close(fds[1]);
  footprint f;
  if (read(fds[0], &f, sizeof f) != ssize_t(sizeof f)) f = {};
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return f;
}

// Prints what a group and a subscription cost at 3,000,000 of each; asserts
// only generous bounds (the figures are for reading).
TEST(GroupTable, MemoryAtThreeMillion) {
  constexpr uint32_t count = 3'000'000;
  // 3M groups named g0..g2999999, one subscriber each, 30,000 peers.
  const footprint groups = measure([](group_table& table) {
    for (uint32_t g = 0; g < count; ++g)
      table.subscribe("g" + std::to_string(g), g % 30000, 0);
  });
  ASSERT_EQ(groups.groups, count);
  std::printf(
      "[ memory ] 3M groups x 1 subscriber (30k peers): %.1f bytes per group accounted, %.1f by "
      "RSS (index, record, name, and its one subscription)\n",
      double(groups.accounted) / count, double(groups.resident) / count);
  EXPECT_LT(groups.accounted, size_t(count) * 80);

  // 3M subscriptions: 30,000 groups x 100 subscribers, 100,000 peers x 30.
  const footprint subscriptions = measure([](group_table& table) {
    for (uint32_t i = 0; i < count; ++i)
      table.subscribe("g" + std::to_string(i % 30000), i / 30, 0);
  });
  ASSERT_EQ(subscriptions.subscriptions, count);
  std::printf(
      "[ memory ] 3M subscriptions (30k groups x 100, 100k peers x 30): %.1f bytes per "
      "subscription accounted, %.1f by RSS\n",
      double(subscriptions.accounted) / count, double(subscriptions.resident) / count);
  EXPECT_LT(subscriptions.accounted, size_t(count) * 32);
}

// ---- commands -------------------------------------------------------------------

TEST(Command, RecognisesTheThreeCommands) {
  command c = parse_command(bytes("sub chat.room-1"));
  EXPECT_EQ(c.kind, command_kind::sub);
  EXPECT_EQ(c.error, "");
  EXPECT_EQ(c.group, "chat.room-1");

  c = parse_command(bytes("unsub g7"));
  EXPECT_EQ(c.kind, command_kind::unsub);
  EXPECT_EQ(c.group, "g7");
  EXPECT_EQ(c.error, "");

  c = parse_command(bytes("pub g7 hello world "));
  EXPECT_EQ(c.kind, command_kind::pub);
  EXPECT_EQ(c.error, "");
  EXPECT_EQ(c.group, "g7");
  EXPECT_EQ(text(c.payload), "hello world ");
}

TEST(Command, PayloadMayBeEmptyOrBinary) {
  command c = parse_command(bytes("pub g "));
  EXPECT_EQ(c.kind, command_kind::pub);
  EXPECT_EQ(c.error, "");
  EXPECT_EQ(c.group, "g");
  EXPECT_TRUE(c.payload.empty());

  const std::string binary("pub g \0\x01\xff ", 10);
  c = parse_command(bytes(binary));
  EXPECT_EQ(c.error, "");
  EXPECT_EQ(text(c.payload), std::string("\0\x01\xff ", 4));
}

TEST(Command, EverythingElseIsNotACommand) {
  for (std::string_view m : {"", "sub", "unsub", "pub", "subscribe g", "Sub g", " sub g",
                             "publish g x", "hello", "msg g x"}) {
    EXPECT_EQ(parse_command(bytes(m)).kind, command_kind::none) << m;
  }
}

TEST(Command, MalformedCommandsSayWhy) {
  const std::string long_name(201, 'x');
  const std::string longest(200, 'x');
  struct bad {
    std::string message;
    command_kind kind;
  };
  const std::vector<bad> cases = {
      {"sub ", command_kind::sub},
      {"sub a b", command_kind::sub},
      {"sub " + long_name, command_kind::sub},
      {std::string("sub a\tb"), command_kind::sub},
      {std::string("sub a\x7f"), command_kind::sub},
      {std::string("sub a\0", 6), command_kind::sub},
      {"unsub ", command_kind::unsub},
      {"unsub a b", command_kind::unsub},
      {"pub ", command_kind::pub},
      {"pub g", command_kind::pub},
      {"pub  payload", command_kind::pub},
      {"pub " + long_name + " x", command_kind::pub},
      {"pub a\nb x", command_kind::pub},
  };
  for (const auto& b : cases) {
    const command c = parse_command(bytes(b.message));
    EXPECT_EQ(c.kind, b.kind) << b.message;
    EXPECT_FALSE(c.error.empty()) << b.message;
  }
  EXPECT_EQ(parse_command(bytes("sub " + longest)).error, "");
  EXPECT_EQ(parse_command(bytes("pub " + longest + " x")).error, "");
  EXPECT_EQ(parse_command(bytes("sub caf\xc3\xa9")).error, "");  // UTF-8 is not control
}

// ---- the group table ----------------------------------------------------------------

TEST(GroupTable, SubscribingTwiceIsOneSubscription) {
  group_table table;
  EXPECT_TRUE(table.subscribe("g", 3, 1));
  EXPECT_FALSE(table.subscribe("g", 3, 1));
  EXPECT_EQ(table.subscriptions(), 1u);
  EXPECT_EQ(table.groups(), 1u);
  EXPECT_EQ(table.subscribers("g").size(), 1u);
  EXPECT_TRUE(table.subscribed("g", 3, 1));
}

TEST(GroupTable, UnsubscribingFromWhatOneIsNotInIsFine) {
  group_table table;
  EXPECT_FALSE(table.unsubscribe("nowhere", 1, 0));
  EXPECT_FALSE(table.unsubscribe("nowhere", 100000, 0));  // a slot never seen
  table.subscribe("g", 1, 0);
  EXPECT_FALSE(table.unsubscribe("g", 2, 0));
  EXPECT_FALSE(table.unsubscribe("h", 1, 0));
  EXPECT_EQ(table.subscriptions(), 1u);
  EXPECT_TRUE(table.unsubscribe("g", 1, 0));
  EXPECT_FALSE(table.unsubscribe("g", 1, 0));
  EXPECT_EQ(table.subscriptions(), 0u);
  EXPECT_EQ(table.groups(), 0u);  // the group went with its last subscriber
  EXPECT_TRUE(table.subscribers("g").empty());
}

TEST(GroupTable, RemovingAPeerRemovesExactlyItsSubscriptions) {
  group_table table;
  for (uint32_t slot = 0; slot < 10; ++slot) {
    for (int g = 0; g < 20; ++g) {
      if ((slot + uint32_t(g)) % 3 != 0) table.subscribe("g" + std::to_string(g), slot, 7);
    }
  }
  const size_t before = table.subscriptions();
  const size_t of_four = table.subscriptions_of(4);
  EXPECT_EQ(table.remove_peer(4, 7), of_four);
  EXPECT_EQ(table.subscriptions(), before - of_four);
  EXPECT_EQ(table.subscriptions_of(4), 0u);
  for (int g = 0; g < 20; ++g) {
    const std::string name = "g" + std::to_string(g);
    std::set<uint32_t> expected;
    for (uint32_t slot = 0; slot < 10; ++slot) {
      if (slot != 4 && (slot + uint32_t(g)) % 3 != 0) expected.insert(slot);
    }
    EXPECT_EQ(slots_of(table, name), expected) << name;
  }
  EXPECT_EQ(table.remove_peer(4, 7), 0u);
}

TEST(GroupTable, AReusedSlotIsRecognisedByItsGeneration) {
  group_table table;
  table.subscribe("old", 5, 1);
  table.subscribe("both", 5, 1);
  table.subscribe("both", 6, 1);
  EXPECT_EQ(table.generation(5), 1);

  // A stale incarnation can change nothing.
  EXPECT_FALSE(table.unsubscribe("old", 5, 0));
  EXPECT_EQ(table.remove_peer(5, 2), 0u);
  EXPECT_TRUE(table.subscribed("old", 5, 1));

  // The slot's next incarnation subscribes: the old one's subscriptions go.
  EXPECT_TRUE(table.subscribe("new", 5, 2));
  EXPECT_EQ(table.generation(5), 2);
  EXPECT_FALSE(table.subscribed("old", 5, 1));
  EXPECT_FALSE(table.subscribed("old", 5, 2));
  EXPECT_TRUE(table.subscribed("new", 5, 2));
  EXPECT_EQ(slots_of(table, "both"), std::set<uint32_t>{6});
  EXPECT_EQ(table.groups(), 2u);  // both, new
  EXPECT_EQ(table.subscriptions(), 2u);
  EXPECT_EQ(table.remove_peer(5, 1), 0u);
  EXPECT_EQ(table.remove_peer(5, 2), 1u);
}

TEST(GroupTable, NamesAreBytesUpTo200) {
  group_table table;
  const std::string a(200, 'a');
  std::string b = a;
  b.back() = 'b';
  table.subscribe(a, 1, 0);
  table.subscribe(b, 2, 0);
  table.subscribe("x", 3, 0);
  table.subscribe(std::string("\xff\x80", 2), 4, 0);
  EXPECT_EQ(slots_of(table, a), std::set<uint32_t>{1});
  EXPECT_EQ(slots_of(table, b), std::set<uint32_t>{2});
  EXPECT_EQ(slots_of(table, std::string("\xff\x80", 2)), std::set<uint32_t>{4});
  EXPECT_TRUE(table.subscribers(std::string(199, 'a')).empty());
}

// Random subscribes, unsubscribes and peer removals against a plain model;
// every list, both directions, must agree after each step's checks.
TEST(GroupTable, AgreesWithAModelUnderRandomChurn) {
  group_table table;
  std::map<std::string, std::set<uint32_t>> model;
  std::vector<uint16_t> generations(64, 0);
  std::mt19937 random(12345);
  const auto group_name = [&](uint32_t n) { return "group/" + std::to_string(n); };
  for (int step = 0; step < 200000; ++step) {
    const uint32_t slot = random() % 64;
    const uint32_t group = random() % 300;
    const std::string name = group_name(group);
    const uint32_t action = random() % 100;
    if (action < 60) {
      const bool added = table.subscribe(name, slot, generations[slot]);
      EXPECT_EQ(added, model[name].insert(slot).second);
    } else if (action < 95) {
      const bool removed = table.unsubscribe(name, slot, generations[slot]);
      auto it = model.find(name);
      const bool present = it != model.end() && it->second.erase(slot) == 1;
      EXPECT_EQ(removed, present);
      if (it != model.end() && it->second.empty()) model.erase(it);
    } else {
      size_t expected = 0;
      for (auto it = model.begin(); it != model.end();) {
        expected += it->second.erase(slot);
        it = it->second.empty() ? model.erase(it) : std::next(it);
      }
      EXPECT_EQ(table.remove_peer(slot, generations[slot]), expected);
      ++generations[slot];  // the slot is reused
    }
    if (step % 5000 == 0 || step == 199999) {
      size_t total = 0;
      for (const auto& [g, slots] : model) {
        ASSERT_EQ(slots_of(table, g), slots) << g << " at step " << step;
        total += slots.size();
      }
      ASSERT_EQ(table.groups(), model.size());
      ASSERT_EQ(table.subscriptions(), total);
      for (uint32_t s = 0; s < 64; ++s) {
        size_t of = 0;
        for (const auto& [g, slots] : model)
          of += slots.count(s);
        ASSERT_EQ(table.subscriptions_of(s), of) << s;
      }
    }
  }
}

TEST(GroupTable, ManyGroupsComeAndGo) {
  group_table table;
  constexpr uint32_t groups = 200000;
  for (int round = 0; round < 3; ++round) {
    // Names of a new length each round: the arena fills with garbage and is
    // compacted on the way.
    const std::string prefix(size_t(round) * 20, 'p');
    for (uint32_t g = 0; g < groups; ++g)
      table.subscribe(prefix + std::to_string(g), g % 1000, 0);
    ASSERT_EQ(table.groups(), groups);
    for (uint32_t g = 0; g < groups; g += 997)
      ASSERT_EQ(slots_of(table, prefix + std::to_string(g)), std::set<uint32_t>{g % 1000});
    for (uint32_t slot = 0; slot < 1000; ++slot)
      ASSERT_EQ(table.remove_peer(slot, 0), groups / 1000);
    ASSERT_EQ(table.groups(), 0u);
    ASSERT_EQ(table.subscriptions(), 0u);
  }
  // Emptied, the table has given back nearly all it held.
  EXPECT_LT(table.memory_bytes(), size_t(8) << 20);
}

TEST(GroupTable, AHugeGroupLosesAPeerInConstantTime) {
  // 100,000 subscribers of one group, each removed: O(1) each (a scan would
  // be 5e9 steps and time out).
  group_table table;
  constexpr uint32_t peers = 100000;
  for (uint32_t slot = 0; slot < peers; ++slot) {
    table.subscribe("everyone", slot, 0);
    table.subscribe("own" + std::to_string(slot), slot, 0);
  }
  for (uint32_t slot = 0; slot < peers; slot += 2)
    ASSERT_EQ(table.remove_peer(slot, 0), 2u);
  EXPECT_EQ(table.subscribers("everyone").size(), peers / 2);
  for (uint32_t slot = 1; slot < peers; slot += 2)
    ASSERT_TRUE(table.unsubscribe("everyone", slot, 0));
  EXPECT_TRUE(table.subscribers("everyone").empty());
  EXPECT_EQ(table.groups(), peers / 2);
}

TEST(GroupTable, InterestBitsFollowTheGroupsItHolds) {
  interest_map interest(64);  // 64 buckets: collisions are easy to find
  group_table table;
  table.publish_interest(interest);
  EXPECT_FALSE(interest.may_have(group_hash("a")));
  table.subscribe("a", 1, 0);  // set before subscribe returns, i.e. before `ok sub`
  EXPECT_TRUE(interest.may_have(group_hash("a")));
  // Another group in a's bucket keeps the bit set until both are gone.
  std::string twin;
  for (int n = 0; twin.empty(); ++n) {
    const std::string name = "b" + std::to_string(n);
    if ((group_hash(name) & 63) == (group_hash("a") & 63)) twin = name;
  }
  table.subscribe(twin, 2, 0);
  table.subscribe(twin, 3, 0);
  table.unsubscribe("a", 1, 0);
  EXPECT_TRUE(interest.may_have(group_hash("a")));
  table.remove_peer(2, 0);
  EXPECT_TRUE(interest.may_have(group_hash("a")));
  table.remove_peer(3, 0);
  EXPECT_FALSE(interest.may_have(group_hash("a")));
  for (uint32_t bucket = 0; bucket < 64; ++bucket)
    EXPECT_FALSE(interest.may_have(bucket)) << bucket;
}

// ---- publish rings ------------------------------------------------------------------

struct publish {
  uint8_t opcode;
  std::string group;
  std::string payload;
  bool operator==(const publish&) const = default;
};

std::vector<publish> drain(publish_inlet& inlet) {
  std::vector<publish> got;
  inlet.receive([&](uint8_t opcode, std::span<const uint8_t> g, std::span<const uint8_t> p) {
    got.push_back({opcode, text(g), text(p)});
  });
  return got;
}

TEST(PublishRing, CarriesPublishesInOrderOncePerCommit) {
  publish_ring ring(4096);
  publish_outlet out(ring);
  publish_inlet in(ring);
  out.push(1, bytes("g1"), bytes("hello"));
  out.push(2, bytes("g2"), bytes(""));
  EXPECT_TRUE(drain(in).empty());  // nothing visible before the commit
  EXPECT_TRUE(out.commit());
  EXPECT_FALSE(out.commit());  // nothing new: no second wake-up
  const std::vector<publish> expected = {{1, "g1", "hello"}, {2, "g2", ""}};
  EXPECT_EQ(drain(in), expected);
  EXPECT_TRUE(drain(in).empty());
}

TEST(PublishRing, AFullRingHoldsPublishesInOrderUntilThereIsRoom) {
  publish_ring ring(4096);
  publish_outlet out(ring);
  publish_inlet in(ring);
  std::vector<publish> sent;
  for (int i = 0; i < 200; ++i) {
    sent.push_back({2, "group", std::string(100, char('a' + i % 26)) + std::to_string(i)});
    out.push(2, bytes(sent.back().group), bytes(sent.back().payload));
  }
  EXPECT_TRUE(out.commit());
  EXPECT_TRUE(out.holding());
  std::vector<publish> got;
  for (int turn = 0; turn < 100 && got.size() < sent.size(); ++turn) {
    for (auto& p : drain(in))
      got.push_back(p);
    out.commit();
  }
  EXPECT_FALSE(out.holding());
  EXPECT_EQ(got, sent);
}

TEST(PublishRing, LargePublishesTravelAsFragments) {
  publish_ring ring(4096);  // records of at most 1 KiB
  publish_outlet out(ring);
  publish_inlet in(ring);
  std::vector<publish> sent;
  for (size_t size :
       {size_t(0), size_t(1000), size_t(1016), size_t(1017), size_t(3000), size_t(100000)}) {
    std::string payload(size, '\0');
    for (size_t i = 0; i < size; ++i)
      payload[i] = char(i * 31 + size);
    sent.push_back({1, std::string(200, 'G'), payload});
    out.push(1, bytes(sent.back().group), bytes(payload));
  }
  std::vector<publish> got;
  for (int turn = 0; turn < 1000 && got.size() < sent.size(); ++turn) {
    out.commit();
    for (auto& p : drain(in))
      got.push_back(p);
  }
  ASSERT_EQ(got.size(), sent.size());
  for (size_t i = 0; i < sent.size(); ++i)
    EXPECT_TRUE(got[i] == sent[i]) << i << " " << got[i].payload.size();
}

TEST(PublishRing, TwoThreadsLoseAndReorderNothing) {
  publish_ring ring(64 * 1024);
  constexpr uint32_t messages = 200000;
  std::atomic<bool> producer_done{false};
  std::thread producer([&] {
    publish_outlet out(ring);
    std::mt19937 random(7);
    for (uint32_t n = 0; n < messages; ++n) {
      // Mostly small, sometimes over a record (fragmented).
      const size_t size = random() % 64 == 0 ? 20000 + random() % 30000 : random() % 300;
      std::string payload = std::to_string(n) + ":" + std::string(size + 1, char('a' + n % 26));
      out.push(uint8_t(1 + n % 2), bytes("g" + std::to_string(n % 7)), bytes(payload));
      if (n % 16 == 0) out.commit();  // a loop turn
    }
    out.commit();
    while (out.holding()) {
      std::this_thread::yield();
      out.commit();
    }
    producer_done.store(true);
  });
  publish_inlet in(ring);
  uint32_t next = 0;
  bool in_order = true;
  const auto check = [&](uint8_t opcode, std::span<const uint8_t> g, std::span<const uint8_t> p) {
    const std::string payload = text(p);
    const uint32_t n = uint32_t(std::stoul(payload.substr(0, payload.find(':'))));
    if (n != next || opcode != 1 + n % 2 || text(g) != "g" + std::to_string(n % 7) ||
        payload.back() != char('a' + n % 26)) {
      in_order = false;
    }
    ++next;
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (next < messages && std::chrono::steady_clock::now() < deadline) {
    if (in.receive(check) != 0) continue;
    // Done only when the producer is, and nothing came after it said so.
    if (producer_done.load() && in.receive(check) == 0) break;
    std::this_thread::yield();
  }
  producer.join();
  EXPECT_TRUE(in_order);
  EXPECT_EQ(next, messages);
}

}  // namespace
}  // namespace horde::core
