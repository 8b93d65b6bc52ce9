// A buffer whose last byte sits right before an inaccessible page, so a parser
// that reads one byte past what it was handed crashes the test at once
// (picohttpparser's trick). Use it to feed every input a parser sees in tests.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string_view>

namespace horde::test {

class guard_page_buffer {
 public:
  explicit guard_page_buffer(size_t capacity) {
    const size_t page = size_t(sysconf(_SC_PAGESIZE));
    _data_pages = (capacity + page - 1) / page * page;
    if (_data_pages == 0) _data_pages = page;
    _total = _data_pages + page;
    void* base = mmap(nullptr, _total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) std::abort();
    _base = static_cast<uint8_t*>(base);
    if (mprotect(_base + _data_pages, page, PROT_NONE) != 0) std::abort();
  }
  ~guard_page_buffer() { munmap(_base, _total); }
  guard_page_buffer(const guard_page_buffer&) = delete;
  guard_page_buffer& operator=(const guard_page_buffer&) = delete;

  // Copies bytes so they end exactly at the guard page; returns a view of them.
  std::span<const uint8_t> place(std::span<const uint8_t> bytes) {
    if (bytes.size() > _data_pages) std::abort();
    uint8_t* start = _base + _data_pages - bytes.size();
    if (!bytes.empty()) std::memcpy(start, bytes.data(), bytes.size());
    return {start, bytes.size()};
  }
  std::string_view place(std::string_view text) {
    auto span =
        place(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
    return {reinterpret_cast<const char*>(span.data()), span.size()};
  }

 private:
  uint8_t* _base = nullptr;
  size_t _data_pages = 0;
  size_t _total = 0;
};

}  // namespace horde::test
