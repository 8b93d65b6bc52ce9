// The ring's batched wait on a real io_uring: it sleeps through completions
// to save wake-ups, but never long (docs/decisions.md, "Client loops
// coalesce wake-ups"): the socket is read only when the waiter wakes, and
// TCP stamps merged data with its newest arrival.
#include "core/ring.hh"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

namespace horde::core {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// Waits for up to 128 completions (2 s timeout, min_wait_ns bound) while one
// receive completes 2 ms in; returns how long the wait took.
milliseconds batched_wait_for_one_receive(uint64_t min_wait_ns, unsigned* completions,
                                          bool* bounded = nullptr) {
  ring r;
  ring_options options;
  options.sq_entries = 8;
  options.cq_entries = 64;
  EXPECT_TRUE(r.init(options));
  if (bounded != nullptr) *bounded = r.bounds_batched_waits();
  int pair[2];
  EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
  char byte = 0;
  io_uring_sqe* e = r.sqe();
  io_uring_prep_recv(e, pair[0], &byte, 1, 0);
  e->user_data = 1;
  std::thread writer([&] {
    std::this_thread::sleep_for(milliseconds(2));
    EXPECT_EQ(write(pair[1], "x", 1), 1);
  });
  const auto start = steady_clock::now();
  EXPECT_EQ(r.submit_and_wait(2'000'000'000, 128, min_wait_ns), 0);
  const auto took = std::chrono::duration_cast<milliseconds>(steady_clock::now() - start);
  writer.join();
  *completions = r.drain([](const io_uring_cqe& cqe) { EXPECT_EQ(cqe.res, 1); });
  close(pair[0]);
  close(pair[1]);
  return took;
}

TEST(ring, a_batched_wait_ends_soon_after_its_first_completion) {
  // 1 ms bound: the receive at 2 ms ends the wait by about 3 ms (at once on
  // a kernel without IORING_FEAT_MIN_TIMEOUT, where every completion wakes).
  // Unbounded, it would sleep the whole 2 s timeout; 500 ms leaves room for
  // any loaded machine.
  unsigned completions = 0;
  bool bounded = false;
  const auto took = batched_wait_for_one_receive(1'000'000, &completions, &bounded);
  // Without the feature this tests nothing the next test does not: say so.
  if (!bounded) GTEST_SKIP() << "the kernel lacks IORING_FEAT_MIN_TIMEOUT (Linux 6.12+)";
  EXPECT_LT(took.count(), 500);
  EXPECT_EQ(completions, 1u);
}

TEST(ring, a_batched_wait_without_a_bound_wakes_for_every_completion) {
  unsigned completions = 0;
  EXPECT_LT(batched_wait_for_one_receive(0, &completions).count(), 500);
  EXPECT_EQ(completions, 1u);
}

}  // namespace
}  // namespace horde::core
