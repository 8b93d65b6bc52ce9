// One plan over N workers: the slice flags, the start time, the pub/sub
// counts a worker takes from the others, and run plans sliced so that the
// slices add up to the whole.
#include "app/worker_slice.hh"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace horde::app {
namespace {

host_facts two_cpus() {
  host_facts host;
  host.cpus = {0, 1};
  host.root = testing::TempDir() + "/no-proc";
  return host;
}

TEST(WorkerSlice, ReadsWorkerFlagsAndTheJobIndex) {
  auto one = parse_worker("", 0, std::nullopt);
  ASSERT_TRUE(one);
  EXPECT_FALSE(one->enabled);
  auto w = parse_worker("2/4", 0, std::nullopt);
  ASSERT_TRUE(w);
  EXPECT_TRUE(w->enabled);
  EXPECT_EQ(w->index, 2u);
  EXPECT_EQ(w->count, 4u);
  auto job = parse_worker("", 4, std::string("3"));
  ASSERT_TRUE(job);
  EXPECT_EQ(job->index, 3u);
  EXPECT_EQ(job->count, 4u);
  for (const char* bad : {"4/4", "1", "a/4", "1/0", "-1/4", "1/4x", "0/100001"})
    EXPECT_FALSE(parse_worker(bad, 0, std::nullopt)) << bad;
  EXPECT_FALSE(parse_worker("", 4, std::nullopt));  // no JOB_COMPLETION_INDEX
  EXPECT_FALSE(parse_worker("", 4, std::string("4")));
  EXPECT_FALSE(parse_worker("", 4, std::string("x")));
  EXPECT_FALSE(parse_worker("0/4", 4, std::nullopt));  // both
}

TEST(WorkerSlice, SharesAddUpToTheWhole) {
  for (uint64_t whole : {0ull, 1ull, 3ull, 101ull, 100000ull}) {
    for (uint32_t n : {1u, 2u, 3u, 4u, 7u}) {
      uint64_t sum = 0;
      for (uint32_t i = 0; i < n; ++i)
        sum += worker_share(whole, n, i);
      EXPECT_EQ(sum, whole) << whole << " over " << n;
    }
  }
}

TEST(WorkerSlice, StartAtTakesUtcOrUnixSecondsWithinBounds) {
  const uint64_t now = 1'796'500'000'000'000'000ull;
  const std::pair<const char*, uint64_t> accepted[] = {
      {"@1796500010", 1'796'500'010'000'000'000ull},
      {"@1796500010.25", 1'796'500'010'250'000'000ull},
      // 1796500000 is 2026-12-05T19:46:40Z.
      {"2026-12-05T19:47:00Z", 1'796'500'020'000'000'000ull},
      {"2026-12-05T19:47:00.5Z", 1'796'500'020'500'000'000ull}};
  for (const auto& [text, ns] : accepted) {
    auto at = parse_start_at(text, now);
    ASSERT_TRUE(at) << text << ": " << at.error().message;
    EXPECT_EQ(*at, ns) << text;
  }
  EXPECT_TRUE(parse_start_at("@1796499950", now));           // 50 s late: accepted
  EXPECT_FALSE(parse_start_at("@1796499930", now));          // 70 s late
  EXPECT_FALSE(parse_start_at("@1796600000", now));          // over 24 h ahead
  EXPECT_FALSE(parse_start_at("2026-12-05T19:47:00", now));  // no zone
  EXPECT_FALSE(parse_start_at("2026-12-05T19:47:00+01:00", now));
  EXPECT_FALSE(parse_start_at("2026-13-05T19:47:00Z", now));
  EXPECT_FALSE(parse_start_at("tomorrow", now));
  EXPECT_FALSE(parse_start_at("@", now));
}

TEST(WorkerSlice, EveryGroupsSubscribersAreHereOrElsewhere) {
  for (auto spread : {core::popularity::uniform, core::popularity::zipf}) {
    core::group_layout layout;
    layout.groups = 37;
    layout.per_connection = 3;
    layout.spread = spread;
    const uint64_t connections = 203;
    // Each subscription is elsewhere for 3 of the 4 workers.
    std::vector<uint32_t> sum(layout.groups, 0);
    for (uint32_t i = 0; i < 4; ++i) {
      const auto elsewhere = remote_subscribers(layout, connections, {i, 4, true});
      for (size_t g = 0; g < sum.size(); ++g)
        sum[g] += elsewhere[g];
    }
    uint64_t total = 0;
    for (uint32_t n : sum) {
      EXPECT_EQ(n % 3, 0u);
      total += n / 3;
      // Uniform: every group has floor(C k / G) or one more subscribers.
      if (spread == core::popularity::uniform) {
        EXPECT_LE(n / 3 - 609 / 37, 1u);
      }
    }
    EXPECT_EQ(total, connections * 3);
  }
}

TEST(WorkerSlice, SlicedPlansAddUpToTheWholePlan) {
  run_options o;
  o.url = "ws://127.0.0.1:9000/";
  o.connections = "101";
  o.connect_rate = "1000/s";
  o.close_rate = "1000/s";
  uint64_t connections = 0;
  for (uint32_t i = 0; i < 4; ++i) {
    o.worker = std::to_string(i) + "/4";
    auto plan = build_run_plan(o, two_cpus());
    ASSERT_TRUE(plan) << plan.error().message;
    EXPECT_EQ(plan->client.connections, i == 0 ? 26u : 25u);
    EXPECT_DOUBLE_EQ(plan->client.connect_rate, 250);
    EXPECT_DOUBLE_EQ(plan->client.close_rate, 250);
    EXPECT_EQ(plan->client.worker_index, i);
    EXPECT_EQ(plan->client.worker_count, 4u);
    EXPECT_EQ(plan->whole_connections, 101u);
    // Shard s's k-th connection has the run-wide id i + 4 (s + k shards).
    EXPECT_EQ(plan->client.global_id(1, 2), i + 4 * (1 + 2 * plan->client.shards));
    connections += plan->client.connections;
  }
  EXPECT_EQ(connections, 101u);
}

TEST(WorkerSlice, PubSubAcrossWorkersNeedsTheBarrierAndNoChurn) {
  run_options o;
  o.url = "ws://127.0.0.1:9000/";
  o.connections = "100";
  o.pubsub.groups = "10";
  o.worker = "1/2";
  auto refused = build_run_plan(o, two_cpus());
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("--barrier"), std::string::npos);
  o.barrier = "127.0.0.1:7000";
  auto plan = build_run_plan(o, two_cpus());
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(plan->pubsub_shared->remote_subscribers.size(), 10u);
  o.pubsub.churn = "10/s";
  EXPECT_FALSE(build_run_plan(o, two_cpus()));
}

TEST(WorkerSlice, SeveralTargetsAreAllPlannedInOrder) {
  run_options o;
  o.urls = {"ws://127.0.0.1:9001/a", "ws://127.0.0.1:9002/b"};
  o.url = o.urls[0];
  auto plan = build_run_plan(o, two_cpus());
  ASSERT_TRUE(plan) << plan.error().message;
  ASSERT_EQ(plan->client.targets.size(), 2u);
  EXPECT_EQ(plan->targets[1].text, "ws://127.0.0.1:9002/b");
  EXPECT_EQ(plan->client.target_of(0), 0);
  EXPECT_EQ(plan->client.target_of(1), 1);
  EXPECT_EQ(plan->client.target_of(2), 0);
  o.urls.push_back("wss://127.0.0.1:9003/");
  EXPECT_FALSE(build_run_plan(o, two_cpus()));  // ws:// and wss:// mixed
  o.urls.pop_back();
  o.target_order = "weighted";
  auto weighted = build_run_plan(o, two_cpus());
  ASSERT_TRUE(weighted);
  EXPECT_EQ(weighted->client.target_cycle, (std::vector<uint8_t>{0, 1}));
}

}  // namespace
}  // namespace horde::app
