// The pub/sub broker's pure parts (docs/pubsub.md), one shard's worth; no
// I/O, no io_uring — the server shard drives them.
//
// - the reference protocol's `sub G`, `unsub G`, `pub G P`: parsed by
//   proto::parse_command (proto/broker_protocol.hh).
// - group_table: group name -> this shard's local subscribers, and slot ->
//   the groups it is in. Both sides of a subscription point at each other
//   (position in the other's list), so subscribe, unsubscribe and removing a
//   peer with k subscriptions cost O(1) list work each — O(k) for the peer,
//   never O(groups) nor O(size of its groups). Sized for millions: a group is
//   a 24-byte record (its subscriber list holds one subscriber inline), an
//   8-byte hash index entry and its name in an arena; a subscription is one
//   8-byte entry on each side. A group goes when its last subscriber does.
// - interest_map: which group-hash buckets a shard has local subscribers
//   in, for other shards to read, so a publish is forwarded only to shards
//   that may want it. Its table sets a bucket's bit when a group is created
//   (before `ok sub` goes out) and clears it when the bucket's last group goes.
// - publish_ring / publish_outlet / publish_inlet: a single-producer
//   single-consumer byte ring per ordered pair of shards carrying publishes,
//   in the order the producing shard read them. The producer writes records
//   during its loop turn and makes them visible once per turn (one release
//   store); a publish that finds no room waits in the outlet, behind which
//   every later one queues, so nothing is lost or reordered. A publish larger
//   than a quarter of the ring travels as fragments the inlet reassembles.
//
// Everything here is single-threaded except the ring's two indices.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "proto/broker_protocol.hh"

namespace horde::core {

// ---- the commands: parsed in proto/broker_protocol.hh ------------------------

using proto::command;
using proto::command_kind;
using proto::max_group_bytes;
using proto::parse_command;

// ---- the group table ----------------------------------------------------------

// The hash the table files a group under; interest_map buckets use it too.
uint32_t group_hash(std::string_view group) noexcept;

// One shard's buckets with local subscribers: written by that shard only (its
// group_table), read by every other one. A bit may be set for a group the
// shard no longer has (a bucket holds many groups): forwarding to it is then
// merely wasted. A bit is never clear while a group of its bucket has local
// subscribers, and it is set before the subscription is answered, so a
// publish read after any `ok sub` answer sees it.
class interest_map {
 public:
  // bits: a power of two, at least 64.
  explicit interest_map(uint32_t bits);

  bool may_have(uint32_t hash) const noexcept {
    const uint32_t bit = hash & _mask;
    return (_words[bit / 64].load(std::memory_order_acquire) >> (bit % 64)) & 1;
  }
  uint32_t bits() const noexcept { return _mask + 1; }

 private:
  friend class group_table;
  void set(uint32_t bucket) noexcept {
    _words[bucket / 64].fetch_or(uint64_t(1) << (bucket % 64), std::memory_order_seq_cst);
  }
  void clear(uint32_t bucket) noexcept {
    _words[bucket / 64].fetch_and(~(uint64_t(1) << (bucket % 64)), std::memory_order_release);
  }

  std::unique_ptr<std::atomic<uint64_t>[]> _words;
  uint32_t _mask;
};

class group_table {
 public:
  // An entry of a group's subscriber list: the peer's slot and where this
  // group sits in that slot's own list.
  struct subscriber {
    uint32_t slot;
    uint32_t link;
  };

  group_table() = default;
  ~group_table();
  group_table(const group_table&) = delete;
  group_table& operator=(const group_table&) = delete;

  // Returns true when the subscription is new, false when it already was.
  // The table holds one generation per slot: a different one means the slot
  // was reused, and the old incarnation's subscriptions are dropped first.
  // group must be 1..max_group_bytes bytes.
  bool subscribe(std::string_view group, uint32_t slot, uint16_t generation) noexcept;
  // Returns true when a subscription was removed; an unknown group, a slot
  // not in it or a stale generation is not an error.
  bool unsubscribe(std::string_view group, uint32_t slot, uint16_t generation) noexcept;
  // Removes every subscription of the slot's given incarnation; returns how
  // many. A stale generation removes nothing.
  size_t remove_peer(uint32_t slot, uint16_t generation) noexcept;

  // The group's local subscribers (empty if none); valid until the table
  // next changes. hash: group_hash(group), when the caller has it.
  std::span<const subscriber> subscribers(std::string_view group) const noexcept;
  std::span<const subscriber> subscribers(std::string_view group, uint32_t hash) const noexcept;
  // From now on, keeps map's bits in step with the groups the table holds
  // (the table must be empty). map must outlive the table.
  void publish_interest(interest_map& map);
  bool subscribed(std::string_view group, uint32_t slot, uint16_t generation) const noexcept;
  // The generation the table holds for a slot (0 for a slot never seen).
  uint16_t generation(uint32_t slot) const noexcept;

  size_t groups() const noexcept { return _groups; }
  size_t subscriptions() const noexcept { return _subscriptions; }
  size_t subscriptions_of(uint32_t slot) const noexcept;
  // Bytes allocated for everything the table holds (capacities, not sizes).
  size_t memory_bytes() const noexcept;

  // A list of 8-byte entries that holds one inline and the rest on the heap:
  // most groups of a many-group run have one local subscriber. 16 bytes.
  template <class T>
  struct compact_list {
    union {
      T one;
      T* many;
    };
    uint32_t size;
    uint32_t capacity;  // <= 1: the entry is inline

    T* data() noexcept { return capacity <= 1 ? &one : many; }
    const T* data() const noexcept { return capacity <= 1 ? &one : many; }
  };

 private:
  // An entry of a slot's list: a group id and the slot's position in that
  // group's subscriber list.
  struct membership {
    uint32_t group;
    uint32_t position;
  };
  struct group_record {
    uint32_t name_offset;  // in the arena; the next free id while the record is free
    uint8_t name_length;   // 0: the record is free
    compact_list<subscriber> members;
  };
  struct index_entry {
    uint32_t id_plus_one;  // 0: empty
    uint32_t hash;
  };
  static_assert(sizeof(compact_list<subscriber>) == 16);
  static_assert(sizeof(group_record) == 24);

  static constexpr uint32_t records_per_chunk = 4096;
  static constexpr uint32_t arena_block_bytes = 256 * 1024;
  static constexpr uint32_t no_group = ~0u;

  group_record& record(uint32_t id) noexcept {
    return _record_chunks[id / records_per_chunk][id % records_per_chunk];
  }
  const group_record& record(uint32_t id) const noexcept {
    return _record_chunks[id / records_per_chunk][id % records_per_chunk];
  }
  std::string_view name_of(const group_record& r) const noexcept;
  uint32_t find(std::string_view group, uint32_t hash) const noexcept;
  uint32_t create(std::string_view group, uint32_t hash) noexcept;
  void drop_group(uint32_t id) noexcept;
  void grow_index(size_t capacity) noexcept;
  void erase_from_index(uint32_t id, uint32_t hash) noexcept;
  uint32_t store_name(std::string_view name) noexcept;
  void compact_arena() noexcept;
  void ensure_slot(uint32_t slot) noexcept;
  // Removes the subscription at position `position` of group `id`, which is
  // entry `link` of `slot`'s list; drops the group when it empties.
  void remove_pair(uint32_t id, uint32_t position, uint32_t slot, uint32_t link) noexcept;
  // The position of slot in group id's list (via the shorter of the two
  // lists), or no_group.
  uint32_t position_of(uint32_t id, uint32_t slot) const noexcept;

  template <class T>
  void push(compact_list<T>& list, T value) noexcept;
  template <class T>
  void pop(compact_list<T>& list) noexcept;
  template <class T>
  void free_list(compact_list<T>& list) noexcept;

  std::vector<index_entry> _index;  // open addressing, linear probing; power of two
  std::vector<group_record*> _record_chunks;
  uint32_t _record_count = 0;  // ids handed out so far (free ones included)
  uint32_t _free_record = no_group;
  std::vector<char*> _arena_blocks;
  uint64_t _arena_used = 0;     // bytes written in the arena (offset of the next name)
  uint64_t _arena_garbage = 0;  // bytes of names whose groups are gone
  std::vector<compact_list<membership>> _peers;  // by slot
  std::vector<uint16_t> _generations;            // by slot
  size_t _groups = 0;
  size_t _subscriptions = 0;
  size_t _list_bytes = 0;  // heap bytes held by compact lists
  interest_map* _interest = nullptr;
  std::vector<uint32_t> _bucket_groups;  // groups per interest bucket
};

// ---- cross-shard publishes ------------------------------------------------------

// What the ring carries: an 8-byte header, then group and payload bytes,
// padded to 8. A `skip` record fills the space up to the ring's end when the
// next record would not fit there contiguously.
struct publish_record_header {
  uint32_t length;  // bytes after the header (unpadded)
  uint8_t kind;
  uint8_t opcode;
  uint8_t group_length;  // group bytes at the front (whole and first records)
  uint8_t unused;
};
static_assert(sizeof(publish_record_header) == 8);

enum class publish_record_kind : uint8_t { skip, whole, first, middle, last };

class publish_ring {
 public:
  // capacity: a power of two, at least 4096 bytes.
  explicit publish_ring(uint32_t capacity);
  ~publish_ring();
  publish_ring(const publish_ring&) = delete;
  publish_ring& operator=(const publish_ring&) = delete;

  uint32_t capacity() const noexcept { return _capacity; }
  // The largest record, header included; bigger publishes are fragmented.
  uint32_t max_record() const noexcept { return _capacity / 4; }

 private:
  friend class publish_outlet;
  friend class publish_inlet;

  // head: bytes the producer has made visible (release); tail: bytes the
  // consumer is done with (release). Each on its own cache line.
  alignas(64) std::atomic<uint64_t> _head{0};
  alignas(64) std::atomic<uint64_t> _tail{0};
  alignas(64) uint8_t* _data = nullptr;
  uint32_t _capacity = 0;
};

// The producing shard's end of one ring.
class publish_outlet {
 public:
  explicit publish_outlet(publish_ring& ring) noexcept : _ring(ring) {}

  // Queues a publish (group: 1..255 bytes) behind every earlier one.
  void push(uint8_t opcode, std::span<const uint8_t> group,
            std::span<const uint8_t> payload) noexcept;
  // Moves held records into the ring as far as there is room, then makes
  // everything written visible. Returns true when the consumer has new bytes
  // (wake it once).
  bool commit() noexcept;
  // True while records wait for room in the ring.
  bool holding() const noexcept { return _held_read < _held.size(); }
  size_t held_bytes() const noexcept { return _held.size() - _held_read; }

 private:
  void put(const publish_record_header& header, std::span<const uint8_t> a,
           std::span<const uint8_t> b) noexcept;
  bool try_write(const publish_record_header& header, std::span<const uint8_t> a,
                 std::span<const uint8_t> b) noexcept;

  publish_ring& _ring;
  uint64_t _write = 0;         // next byte to write (not yet visible past _published)
  uint64_t _published = 0;     // what _head says
  uint64_t _tail_seen = 0;     // last tail read: the room known without touching its line
  std::vector<uint8_t> _held;  // formatted records waiting for room
  size_t _held_read = 0;
};

// The consuming shard's end of one ring.
class publish_inlet {
 public:
  explicit publish_inlet(publish_ring& ring) noexcept : _ring(ring) {}

  // Calls fn(uint8_t opcode, std::span<const uint8_t> group,
  // std::span<const uint8_t> payload) for every complete publish visible now,
  // in order, then frees their room. Returns how many.
  template <class Fn>
  size_t receive(Fn&& fn) noexcept {
    const uint64_t head = _ring._head.load(std::memory_order_acquire);
    if (head == _read) return 0;
    const uint32_t mask = _ring._capacity - 1;
    size_t delivered = 0;
    while (_read < head) {
      const uint8_t* at = _ring._data + (_read & mask);
      publish_record_header header;
      std::memcpy(&header, at, sizeof header);
      const uint8_t* body = at + sizeof header;
      const auto kind = publish_record_kind(header.kind);
      const std::span<const uint8_t> group(body, header.group_length);
      const std::span<const uint8_t> rest(body + header.group_length,
                                          header.length - header.group_length);
      switch (kind) {
        case publish_record_kind::skip:
          break;
        case publish_record_kind::whole:
          fn(header.opcode, group, rest);
          ++delivered;
          break;
        case publish_record_kind::first:
          _opcode = header.opcode;
          _group_length = header.group_length;
          _assembly.assign(body, body + header.length);
          break;
        case publish_record_kind::middle:
        case publish_record_kind::last: {
          _assembly.insert(_assembly.end(), rest.begin(), rest.end());
          if (kind == publish_record_kind::middle) break;
          const std::span<const uint8_t> all(_assembly);
          fn(_opcode, all.first(_group_length), all.subspan(_group_length));
          ++delivered;
          _assembly.clear();
          break;
        }
      }
      _read += (sizeof header + header.length + 7) & ~uint64_t(7);
    }
    if (_assembly.capacity() > 1u << 20 && _assembly.empty()) {
      _assembly.clear();
      _assembly.shrink_to_fit();  // a rare huge publish does not pin its size
    }
    _ring._tail.store(_read, std::memory_order_release);
    return delivered;
  }

 private:
  publish_ring& _ring;
  uint64_t _read = 0;
  std::vector<uint8_t> _assembly;  // a fragmented publish so far
  uint8_t _opcode = 0;
  uint8_t _group_length = 0;
};

}  // namespace horde::core
