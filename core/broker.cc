#include "core/broker.hh"

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace horde::core {
namespace {

[[noreturn]] void out_of_memory(const char* where) noexcept {
  std::fprintf(stderr, "horde: out of memory in %s\n", where);
  std::abort();
}

// ---- hashing --------------------------------------------------------------------

uint64_t mix(uint64_t x) noexcept {  // splitmix64's finalizer
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

// Group names are short (g123456): eight bytes a step, then the tail.
uint32_t hash_of(std::string_view name) noexcept {
  uint64_t h = 0x9e3779b97f4a7c15ULL ^ name.size();
  size_t i = 0;
  for (; i + 8 <= name.size(); i += 8) {
    uint64_t word;
    std::memcpy(&word, name.data() + i, 8);
    h = mix(h ^ word);
  }
  uint64_t tail = 0;
  std::memcpy(&tail, name.data() + i, name.size() - i);
  h = mix(h ^ tail ^ (uint64_t(name.size() - i) << 59));
  return uint32_t(h >> 32);
}

constexpr size_t min_index_capacity = 16;

}  // namespace

uint32_t group_hash(std::string_view group) noexcept {
  return hash_of(group);
}

interest_map::interest_map(uint32_t bits)
    : _words(new std::atomic<uint64_t>[bits / 64]), _mask(bits - 1) {
  if (bits < 64 || (bits & (bits - 1)) != 0) {
    std::fprintf(stderr, "horde: interest_map bits %u is not a power of two >= 64\n", bits);
    std::abort();
  }
  for (uint32_t i = 0; i < bits / 64; ++i)
    _words[i].store(0, std::memory_order_relaxed);
}

// ---- group_table: lists -------------------------------------------------------------

template <class T>
void group_table::push(compact_list<T>& list, T value) noexcept {
  if (list.size == 0 && list.capacity <= 1) {
    list.capacity = 1;
    list.one = value;
    list.size = 1;
    return;
  }
  if (list.size == list.capacity) {
    // 1 (inline) -> 4 -> 8 -> 16, then +25%: long lists grow geometrically
    // (amortised O(1) an entry) with an eighth of slack on average, where
    // doubling would leave a third.
    const uint32_t grown = list.capacity <= 1   ? 4
                           : list.capacity < 16 ? list.capacity * 2
                                                : list.capacity + list.capacity / 4;
    T* moved = nullptr;
    if (list.capacity <= 1) {
      moved = static_cast<T*>(std::malloc(grown * sizeof(T)));
      if (moved == nullptr) out_of_memory("group_table");
      moved[0] = list.one;
    } else {
      moved = static_cast<T*>(std::realloc(list.many, grown * sizeof(T)));
      if (moved == nullptr) out_of_memory("group_table");
      _list_bytes -= list.capacity * sizeof(T);
    }
    _list_bytes += grown * sizeof(T);
    list.many = moved;
    list.capacity = grown;
  }
  list.data()[list.size++] = value;
}

template <class T>
void group_table::pop(compact_list<T>& list) noexcept {
  --list.size;
  if (list.capacity <= 1) return;
  if (list.size <= 1) {
    // Back inline.
    T* heap = list.many;
    if (list.size == 1) list.one = heap[0];
    std::free(heap);
    _list_bytes -= list.capacity * sizeof(T);
    list.capacity = list.size;
  } else if (list.capacity > 8 && list.size <= list.capacity / 4) {
    const uint32_t shrunk = list.capacity / 2;
    T* moved = static_cast<T*>(std::realloc(list.many, shrunk * sizeof(T)));
    if (moved != nullptr) {
      _list_bytes -= (list.capacity - shrunk) * sizeof(T);
      list.many = moved;
      list.capacity = shrunk;
    }
  }
}

template <class T>
void group_table::free_list(compact_list<T>& list) noexcept {
  if (list.capacity > 1) {
    std::free(list.many);
    _list_bytes -= list.capacity * sizeof(T);
  }
  list.size = list.capacity = 0;
}

// ---- group_table: names and the index ---------------------------------------------------

group_table::~group_table() {
  for (uint32_t id = 0; id < _record_count; ++id) {
    group_record& r = record(id);
    if (r.name_length != 0) free_list(r.members);
  }
  for (auto& list : _peers)
    free_list(list);
  for (group_record* chunk : _record_chunks)
    std::free(chunk);
  for (char* block : _arena_blocks)
    std::free(block);
}

std::string_view group_table::name_of(const group_record& r) const noexcept {
  const char* block = _arena_blocks[r.name_offset / arena_block_bytes];
  return {block + r.name_offset % arena_block_bytes, r.name_length};
}

uint32_t group_table::store_name(std::string_view name) noexcept {
  // A name never straddles two blocks: what is left of a block too short for
  // it is skipped (and counted as garbage so compaction reclaims it).
  uint64_t offset = _arena_used;
  const uint64_t left = arena_block_bytes - offset % arena_block_bytes;
  if (offset % arena_block_bytes == 0 || left < name.size()) {
    if (offset % arena_block_bytes != 0) {
      _arena_garbage += left;
      offset += left;
    }
    if (offset / arena_block_bytes >= _arena_blocks.size()) {
      char* block = static_cast<char*>(std::malloc(arena_block_bytes));
      if (block == nullptr) out_of_memory("group_table arena");
      _arena_blocks.push_back(block);
    }
  }
  if (offset + name.size() > uint64_t(UINT32_MAX)) out_of_memory("group_table arena (4 GiB)");
  std::memcpy(_arena_blocks[offset / arena_block_bytes] + offset % arena_block_bytes, name.data(),
              name.size());
  _arena_used = offset + name.size();
  return uint32_t(offset);
}

void group_table::compact_arena() noexcept {
  // Names are copied, in id order, into fresh blocks; the old blocks go.
  std::vector<char*> old_blocks;
  old_blocks.swap(_arena_blocks);
  const auto old_name = [&](const group_record& r) -> std::string_view {
    return {old_blocks[r.name_offset / arena_block_bytes] + r.name_offset % arena_block_bytes,
            r.name_length};
  };
  _arena_used = 0;
  _arena_garbage = 0;
  for (uint32_t id = 0; id < _record_count; ++id) {
    group_record& r = record(id);
    if (r.name_length != 0) r.name_offset = store_name(old_name(r));
  }
  for (char* block : old_blocks)
    std::free(block);
}

uint32_t group_table::find(std::string_view group, uint32_t hash) const noexcept {
  if (_index.empty()) return no_group;
  const size_t mask = _index.size() - 1;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    const index_entry& e = _index[i];
    if (e.id_plus_one == 0) return no_group;
    if (e.hash == hash) {
      const group_record& r = record(e.id_plus_one - 1);
      if (name_of(r) == group) return e.id_plus_one - 1;
    }
  }
}

void group_table::grow_index(size_t capacity) noexcept {
  std::vector<index_entry> old(capacity, index_entry{0, 0});
  old.swap(_index);
  const size_t mask = capacity - 1;
  for (const index_entry& e : old) {
    if (e.id_plus_one == 0) continue;
    size_t i = e.hash & mask;
    while (_index[i].id_plus_one != 0)
      i = (i + 1) & mask;
    _index[i] = e;
  }
}

void group_table::erase_from_index(uint32_t id, uint32_t hash) noexcept {
  const size_t mask = _index.size() - 1;
  size_t hole = hash & mask;
  while (_index[hole].id_plus_one != id + 1)
    hole = (hole + 1) & mask;
  // Backward-shift deletion: pull later entries of the probe run into the
  // hole when their home position allows, so no tombstones accumulate.
  for (size_t next = (hole + 1) & mask; _index[next].id_plus_one != 0; next = (next + 1) & mask) {
    const size_t home = _index[next].hash & mask;
    const bool between =
        hole <= next ? (hole < home && home <= next) : (hole < home || home <= next);
    if (between) continue;
    _index[hole] = _index[next];
    hole = next;
  }
  _index[hole] = index_entry{0, 0};
}

uint32_t group_table::create(std::string_view group, uint32_t hash) noexcept {
  // Load factor at most 0.8 (linear probing stays short); 16 entries at least.
  if (_index.empty()) {
    grow_index(min_index_capacity);
  } else if ((_groups + 1) * 5 > _index.size() * 4) {
    grow_index(_index.size() * 2);
  }
  uint32_t id = _free_record;
  if (id != no_group) {
    _free_record = record(id).name_offset;
  } else {
    id = _record_count++;
    if (id / records_per_chunk >= _record_chunks.size()) {
      auto* chunk =
          static_cast<group_record*>(std::malloc(records_per_chunk * sizeof(group_record)));
      if (chunk == nullptr) out_of_memory("group_table records");
      _record_chunks.push_back(chunk);
    }
  }
  group_record& r = record(id);
  r.name_offset = store_name(group);
  r.name_length = uint8_t(group.size());
  r.members = {};
  r.members.size = r.members.capacity = 0;
  const size_t mask = _index.size() - 1;
  size_t i = hash & mask;
  while (_index[i].id_plus_one != 0)
    i = (i + 1) & mask;
  _index[i] = index_entry{id + 1, hash};
  ++_groups;
  if (_interest != nullptr) {
    // Counted from the first group on: a shard without pub/sub pays nothing.
    if (_bucket_groups.empty()) _bucket_groups.assign(_interest->bits(), 0);
    const uint32_t bucket = hash & _interest->_mask;
    if (_bucket_groups[bucket]++ == 0) _interest->set(bucket);
  }
  return id;
}

void group_table::drop_group(uint32_t id) noexcept {
  group_record& r = record(id);
  const uint32_t hash = group_hash(name_of(r));
  erase_from_index(id, hash);
  if (_interest != nullptr) {
    const uint32_t bucket = hash & _interest->_mask;
    if (--_bucket_groups[bucket] == 0) _interest->clear(bucket);
  }
  free_list(r.members);
  _arena_garbage += r.name_length;
  r.name_length = 0;
  r.name_offset = _free_record;
  _free_record = id;
  --_groups;
  // Reclaim names once garbage outweighs live names (amortised O(1) a drop).
  if (_arena_garbage > arena_block_bytes && _arena_garbage * 2 > _arena_used) compact_arena();
  if (_index.size() > 1024 && _groups * 8 < _index.size()) grow_index(_index.size() / 2);
}

// ---- group_table: subscriptions ------------------------------------------------------------

void group_table::ensure_slot(uint32_t slot) noexcept {
  if (slot < _peers.size()) return;
  size_t size = _peers.size() + _peers.size() / 2;
  if (size <= slot) size = size_t(slot) + 1;
  _peers.resize(size);
  _generations.resize(size, 0);
}

uint32_t group_table::position_of(uint32_t id, uint32_t slot) const noexcept {
  const auto& members = record(id).members;
  const auto& links = _peers[slot];
  if (members.size <= links.size) {
    const subscriber* m = members.data();
    for (uint32_t i = 0; i < members.size; ++i) {
      if (m[i].slot == slot) return i;
    }
    return no_group;
  }
  const membership* l = links.data();
  for (uint32_t i = 0; i < links.size; ++i) {
    if (l[i].group == id) return l[i].position;
  }
  return no_group;
}

bool group_table::subscribe(std::string_view group, uint32_t slot, uint16_t generation) noexcept {
  ensure_slot(slot);
  if (_generations[slot] != generation) {
    remove_peer(slot, _generations[slot]);
    _generations[slot] = generation;
  }
  const uint32_t hash = group_hash(group);
  uint32_t id = find(group, hash);
  if (id == no_group) {
    id = create(group, hash);
  } else if (position_of(id, slot) != no_group) {
    return false;
  }
  group_record& r = record(id);
  push(r.members, subscriber{slot, _peers[slot].size});
  push(_peers[slot], membership{id, r.members.size - 1});
  ++_subscriptions;
  return true;
}

void group_table::remove_pair(uint32_t id, uint32_t position, uint32_t slot,
                              uint32_t link) noexcept {
  // Both lists lose an entry by moving their last one into its place; the
  // moved entry's partner learns its new position. A slot is in a group at
  // most once, so the moved entries belong to other slots / other groups.
  auto& members = record(id).members;
  subscriber* m = members.data();
  const subscriber moved = m[members.size - 1];
  m[position] = moved;
  if (position != members.size - 1) _peers[moved.slot].data()[moved.link].position = position;
  pop(members);

  auto& links = _peers[slot];
  membership* l = links.data();
  const membership moved_link = l[links.size - 1];
  l[link] = moved_link;
  if (link != links.size - 1)
    record(moved_link.group).members.data()[moved_link.position].link = link;
  pop(links);

  --_subscriptions;
  if (record(id).members.size == 0) drop_group(id);
}

bool group_table::unsubscribe(std::string_view group, uint32_t slot, uint16_t generation) noexcept {
  if (slot >= _peers.size() || _generations[slot] != generation) return false;
  const uint32_t id = find(group, group_hash(group));
  if (id == no_group) return false;
  const uint32_t position = position_of(id, slot);
  if (position == no_group) return false;
  remove_pair(id, position, slot, record(id).members.data()[position].link);
  return true;
}

size_t group_table::remove_peer(uint32_t slot, uint16_t generation) noexcept {
  if (slot >= _peers.size() || _generations[slot] != generation) return 0;
  const size_t removed = _peers[slot].size;
  // From the back: each removal then moves nothing in this slot's own list.
  while (_peers[slot].size != 0) {
    const membership last = _peers[slot].data()[_peers[slot].size - 1];
    remove_pair(last.group, last.position, slot, _peers[slot].size - 1);
  }
  free_list(_peers[slot]);
  return removed;
}

void group_table::publish_interest(interest_map& map) {
  _interest = &map;
}

std::span<const group_table::subscriber> group_table::subscribers(
    std::string_view group) const noexcept {
  return subscribers(group, group_hash(group));
}

std::span<const group_table::subscriber> group_table::subscribers(std::string_view group,
                                                                  uint32_t hash) const noexcept {
  const uint32_t id = find(group, hash);
  if (id == no_group) return {};
  const auto& members = record(id).members;
  return {members.data(), members.size};
}

bool group_table::subscribed(std::string_view group, uint32_t slot,
                             uint16_t generation) const noexcept {
  if (slot >= _peers.size() || _generations[slot] != generation) return false;
  const uint32_t id = find(group, group_hash(group));
  return id != no_group && position_of(id, slot) != no_group;
}

uint16_t group_table::generation(uint32_t slot) const noexcept {
  return slot < _generations.size() ? _generations[slot] : 0;
}

size_t group_table::subscriptions_of(uint32_t slot) const noexcept {
  return slot < _peers.size() ? _peers[slot].size : 0;
}

size_t group_table::memory_bytes() const noexcept {
  return _index.capacity() * sizeof(index_entry) +
         _record_chunks.size() * (records_per_chunk * sizeof(group_record) + sizeof(void*)) +
         _arena_blocks.size() * (size_t(arena_block_bytes) + sizeof(void*)) +
         _peers.capacity() * sizeof(compact_list<membership>) +
         _generations.capacity() * sizeof(uint16_t) + _list_bytes +
         _bucket_groups.capacity() * sizeof(uint32_t);
}

// ---- publish rings ------------------------------------------------------------------

publish_ring::publish_ring(uint32_t capacity) : _capacity(capacity) {
  if (capacity < 4096 || (capacity & (capacity - 1)) != 0) {
    std::fprintf(stderr, "horde: publish_ring capacity %u is not a power of two >= 4096\n",
                 capacity);
    std::abort();
  }
  // Untouched until used: pages become resident as publishes pass.
  _data = static_cast<uint8_t*>(std::malloc(capacity));
  if (_data == nullptr) out_of_memory("publish_ring");
}

publish_ring::~publish_ring() {
  std::free(_data);
}

bool publish_outlet::try_write(const publish_record_header& header, std::span<const uint8_t> a,
                               std::span<const uint8_t> b) noexcept {
  const uint32_t capacity = _ring._capacity;
  const uint64_t total = (sizeof header + header.length + 7) & ~uint64_t(7);
  const uint64_t to_end = capacity - (_write & (capacity - 1));
  const uint64_t needed = total <= to_end ? total : to_end + total;
  if (capacity - (_write - _tail_seen) < needed) {
    _tail_seen = _ring._tail.load(std::memory_order_acquire);
    if (capacity - (_write - _tail_seen) < needed) return false;
  }
  if (total > to_end) {
    const publish_record_header skip{uint32_t(to_end - sizeof skip),
                                     uint8_t(publish_record_kind::skip), 0, 0, 0};
    std::memcpy(_ring._data + (_write & (capacity - 1)), &skip, sizeof skip);
    _write += to_end;
  }
  uint8_t* at = _ring._data + (_write & (capacity - 1));
  std::memcpy(at, &header, sizeof header);
  if (!a.empty()) std::memcpy(at + sizeof header, a.data(), a.size());
  if (!b.empty()) std::memcpy(at + sizeof header + a.size(), b.data(), b.size());
  _write += total;
  return true;
}

void publish_outlet::put(const publish_record_header& header, std::span<const uint8_t> a,
                         std::span<const uint8_t> b) noexcept {
  if (!holding() && try_write(header, a, b)) return;
  // Held in the same format, padded, until the ring has room.
  const size_t total = (sizeof header + header.length + 7) & ~size_t(7);
  const size_t at = _held.size();
  _held.resize(at + total);
  std::memcpy(_held.data() + at, &header, sizeof header);
  if (!a.empty()) std::memcpy(_held.data() + at + sizeof header, a.data(), a.size());
  if (!b.empty()) std::memcpy(_held.data() + at + sizeof header + a.size(), b.data(), b.size());
}

void publish_outlet::push(uint8_t opcode, std::span<const uint8_t> group,
                          std::span<const uint8_t> payload) noexcept {
  const size_t max_body = _ring.max_record() - sizeof(publish_record_header);
  const auto group_length = uint8_t(group.size());
  if (group.size() + payload.size() <= max_body) {
    put({uint32_t(group.size() + payload.size()), uint8_t(publish_record_kind::whole), opcode,
         group_length, 0},
        group, payload);
    return;
  }
  const size_t first = max_body - group.size();  // > 0: max_body > max_group_bytes
  put({uint32_t(max_body), uint8_t(publish_record_kind::first), opcode, group_length, 0}, group,
      payload.first(first));
  payload = payload.subspan(first);
  while (!payload.empty()) {
    const size_t n = payload.size() < max_body ? payload.size() : max_body;
    const auto kind = n == payload.size() ? publish_record_kind::last : publish_record_kind::middle;
    put({uint32_t(n), uint8_t(kind), opcode, 0, 0}, {}, payload.first(n));
    payload = payload.subspan(n);
  }
}

bool publish_outlet::commit() noexcept {
  while (holding()) {
    publish_record_header header;
    std::memcpy(&header, _held.data() + _held_read, sizeof header);
    const std::span<const uint8_t> body(_held.data() + _held_read + sizeof header, header.length);
    if (!try_write(header, {}, body)) break;
    _held_read += (sizeof header + header.length + 7) & ~size_t(7);
  }
  if (!holding()) {
    _held.clear();
    _held_read = 0;
    if (_held.capacity() > (1u << 20)) _held.shrink_to_fit();
  } else if (_held_read > _held.size() / 2) {
    _held.erase(_held.begin(), _held.begin() + ptrdiff_t(_held_read));
    _held_read = 0;
  }
  if (_write == _published) return false;
  _ring._head.store(_write, std::memory_order_release);
  _published = _write;
  return true;
}

}  // namespace horde::core
