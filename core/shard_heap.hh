// Each shard thread allocates from its own mimalloc heap, made the thread's
// default so every malloc/new in the shard lands there (mimalloc overrides
// malloc process-wide when linked). Create it after pinning, so its pages are
// first touched on the shard's CPU. Without mimalloc (sanitizer builds) it
// does nothing.
#pragma once

namespace horde::core {

class shard_heap {
 public:
  shard_heap();
  ~shard_heap();
  shard_heap(const shard_heap&) = delete;
  shard_heap& operator=(const shard_heap&) = delete;

 private:
  // Unused without mimalloc (sanitizer builds), where the class does nothing.
  [[maybe_unused]] void* _heap = nullptr;
  [[maybe_unused]] void* _previous = nullptr;
};

}  // namespace horde::core
