#include "core/shard_heap.hh"

#ifdef HORDE_WITH_MIMALLOC
#include <mimalloc.h>
#endif

namespace horde::core {

#ifdef HORDE_WITH_MIMALLOC
shard_heap::shard_heap() {
  _previous = mi_heap_get_default();
  mi_heap_t* heap = mi_heap_new();
  if (heap != nullptr) {
    mi_heap_set_default(heap);
    _heap = heap;
  }
}

shard_heap::~shard_heap() {
  if (_heap == nullptr) return;
  mi_heap_set_default(static_cast<mi_heap_t*>(_previous));
  // Blocks still alive migrate to the default heap rather than dangle.
  mi_heap_delete(static_cast<mi_heap_t*>(_heap));
}
#else
shard_heap::shard_heap() = default;
shard_heap::~shard_heap() = default;
#endif

}  // namespace horde::core
