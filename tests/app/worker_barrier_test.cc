// The publish barrier between workers (app/worker_barrier.hh), on loopback:
// no worker may publish before every worker's subscriptions are in force.
#include "app/worker_barrier.hh"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/free_port.hh"

namespace horde::app {
namespace {

using test::free_port;

// Waits (bounded) until `ready` holds.
template <class Ready>
bool within_seconds(int seconds, Ready ready) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < until) {
    if (ready()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return ready();
}

TEST(WorkerBarrier, ReadsOnlyAWorkerIndexBelowTheCount) {
  EXPECT_EQ(barrier_request_index("GET /ready/3 HTTP/1.0\r\n\r\n", 4), 3);
  EXPECT_EQ(barrier_request_index("GET /ready/0 HTTP/1.1\r\nHost: x\r\n\r\n", 1), 0);
  for (const char* bad : {"GET /ready/4 HTTP/1.0", "GET /ready/ HTTP/1.0", "GET /ready/1x HTTP/1.0",
                          "POST /ready/1 HTTP/1.0", "GET /ready/1", "GET /ready/9999999999 H", ""})
    EXPECT_EQ(barrier_request_index(bad, 4), -1) << bad;
}

TEST(WorkerBarrier, OpensForEveryWorkerOnlyOnceAllHaveSubscribed) {
  const std::string address = "127.0.0.1:" + std::to_string(free_port());
  constexpr uint32_t workers = 3;
  std::vector<std::unique_ptr<core::pubsub_shared>> shared;
  std::vector<std::unique_ptr<worker_barrier>> barriers;
  for (uint32_t i = 0; i < workers; ++i) {
    shared.push_back(std::make_unique<core::pubsub_shared>(4));
    barriers.push_back(std::make_unique<worker_barrier>());
    auto started = barriers.back()->start(address, i, workers, 2, *shared.back());
    ASSERT_TRUE(started) << started.error().message;
    EXPECT_FALSE(shared.back()->workers_ready.load());
  }
  // Workers 0 and 1 have subscribed (both their shards); 2 has not.
  for (uint32_t i = 0; i < 2; ++i)
    shared[i]->shards_subscribed.store(2);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  for (uint32_t i = 0; i < workers; ++i)
    EXPECT_FALSE(shared[i]->workers_ready.load()) << "worker " << i;
  shared[2]->shards_subscribed.store(1);  // one of its two shards
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(shared[0]->workers_ready.load());
  shared[2]->shards_subscribed.store(2);
  for (uint32_t i = 0; i < workers; ++i) {
    EXPECT_TRUE(within_seconds(5, [&] { return shared[i]->workers_ready.load(); }))
        << "worker " << i;
    EXPECT_NE(barriers[i]->opened_ns(), 0u);
  }
  for (auto& b : barriers)
    b->stop();
}

TEST(WorkerBarrier, RefusesAMalformedAddress) {
  core::pubsub_shared shared(1);
  for (const char* bad : {"nohost", ":7000", "host:", "host:0", "host:70000"}) {
    worker_barrier barrier;
    EXPECT_FALSE(barrier.start(bad, 1, 2, 1, shared)) << bad;
  }
}

}  // namespace
}  // namespace horde::app
