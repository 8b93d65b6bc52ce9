// Reserved and listening ports under a root directory. /proc/net/tcp prints
// each address as the kernel's __be32 words formatted with %08X, i.e. in the
// host's byte order: on a little-endian host 127.0.0.1 reads "0100007F".
#include "sysctl/proc_ports.hh"

#include <dirent.h>
#include <unistd.h>

#include <cstdlib>

#include <arpa/inet.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <iterator>

#include "sysctl/proc_file.hh"
#include "sysctl/sock_diag.hh"

namespace horde::sysctl {
namespace {

constexpr std::array<uint8_t, 12> ipv4_mapped_prefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

int hex_digit(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Exactly digits.size() hex digits into a value (at most 8 digits).
std::optional<uint32_t> hex_u32(std::string_view digits) noexcept {
  if (digits.empty() || digits.size() > 8) return std::nullopt;
  uint32_t value = 0;
  for (char c : digits) {
    const int d = hex_digit(c);
    if (d < 0) return std::nullopt;
    value = value << 4 | uint32_t(d);
  }
  return value;
}

// One whitespace-separated word from the front of text; empty at the end.
std::string_view next_word(std::string_view& text) noexcept {
  size_t i = 0;
  while (i < text.size() && (text[i] == ' ' || text[i] == '\t'))
    ++i;
  const size_t start = i;
  while (i < text.size() && text[i] != ' ' && text[i] != '\t')
    ++i;
  const std::string_view word = text.substr(start, i - start);
  text.remove_prefix(i);
  return word;
}

// "0100007F:1F90" (ipv6 false) or 32 hex digits then ":PORT" (ipv6 true).
std::optional<listening_socket> parse_endpoint(std::string_view word, bool ipv6) noexcept {
  const size_t address_digits = ipv6 ? 32 : 8;
  if (word.size() != address_digits + 5 || word[address_digits] != ':') return std::nullopt;
  listening_socket socket;
  auto port = hex_u32(word.substr(address_digits + 1));
  if (!port) return std::nullopt;
  socket.port = uint16_t(*port);
  std::array<uint8_t, 16>& out = socket.address.bytes;
  size_t at = 0;
  if (!ipv6) {
    std::copy(ipv4_mapped_prefix.begin(), ipv4_mapped_prefix.end(), out.begin());
    at = 12;
  }
  for (size_t w = 0; w < address_digits / 8; ++w) {
    auto value = hex_u32(word.substr(w * 8, 8));
    if (!value) return std::nullopt;
    // The word was printed as a host-order u32 of network-order bytes.
    const uint32_t network =
        std::endian::native == std::endian::little ? __builtin_bswap32(*value) : *value;
    for (int b = 3; b >= 0; --b)
      out[at++] = uint8_t(network >> (8 * b));
  }
  return socket;
}

}  // namespace

bool socket_address::is_ipv4() const noexcept {
  return std::equal(ipv4_mapped_prefix.begin(), ipv4_mapped_prefix.end(), bytes.begin());
}

bool socket_address::is_any_ipv4() const noexcept {
  return is_ipv4() && bytes[12] == 0 && bytes[13] == 0 && bytes[14] == 0 && bytes[15] == 0;
}

bool socket_address::is_any_ipv6() const noexcept {
  return std::all_of(bytes.begin(), bytes.end(), [](uint8_t b) { return b == 0; });
}

std::optional<socket_address> parse_socket_address(std::string_view text) {
  if (text.empty() || text.size() > 64) return std::nullopt;
  const std::string z(text);  // inet_pton wants a terminated string
  socket_address address;
  in_addr v4{};
  if (::inet_pton(AF_INET, z.c_str(), &v4) == 1) {
    std::copy(ipv4_mapped_prefix.begin(), ipv4_mapped_prefix.end(), address.bytes.begin());
    std::memcpy(&address.bytes[12], &v4, 4);
    return address;
  }
  in6_addr v6{};
  if (::inet_pton(AF_INET6, z.c_str(), &v6) == 1) {
    std::memcpy(address.bytes.data(), &v6, 16);
    return address;
  }
  return std::nullopt;
}

result<std::vector<listening_socket>> parse_listening_sockets(std::string_view text, bool ipv6) {
  std::vector<listening_socket> listening;
  size_t number = 0;
  bool header_seen = false;
  while (!text.empty()) {
    if (++number > max_proc_net_tcp_lines) {
      return make_error("more than " + std::to_string(max_proc_net_tcp_lines) + " lines");
    }
    const size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    if (line.size() > max_proc_net_tcp_line_bytes) {
      return make_error("line " + std::to_string(number) + " is longer than " +
                        std::to_string(max_proc_net_tcp_line_bytes) + " bytes");
    }
    std::string_view rest = line;
    const std::string_view slot = next_word(rest);
    if (slot.empty()) continue;  // a blank line
    if (!header_seen) {
      // "  sl  local_address rem_address   st tx_queue ..."
      if (slot != "sl") return make_error("line 1 is not the 'sl local_address ...' header");
      header_seen = true;
      continue;
    }
    const auto bad = [&] {
      return make_error("line " + std::to_string(number) + " is not a socket row: '" +
                        std::string(line.substr(0, 80)) + "'");
    };
    // "   0: 00000000:07E8 00000000:0000 0A ..."
    if (slot.size() < 2 || slot.back() != ':' ||
        !std::all_of(slot.begin(), slot.end() - 1, [](char c) { return c >= '0' && c <= '9'; })) {
      return bad();
    }
    const auto local = parse_endpoint(next_word(rest), ipv6);
    const auto remote = parse_endpoint(next_word(rest), ipv6);
    const std::string_view state_word = next_word(rest);
    const auto state = state_word.size() == 2 ? hex_u32(state_word) : std::nullopt;
    if (!local || !remote || !state) return bad();
    if (*state != 0x0A) continue;  // TCP_LISTEN only
    listening_socket socket = *local;
    // tx:rx, tr:when, retransmits, uid, timeout, then the inode.
    std::string_view inode_word;
    for (int skip = 0; skip < 6; ++skip)
      inode_word = next_word(rest);
    uint64_t inode = 0;
    for (char c : inode_word) {
      if (c < '0' || c > '9' || inode > (UINT64_MAX - 9) / 10) {
        inode = 0;
        break;
      }
      inode = inode * 10 + uint64_t(c - '0');
    }
    socket.inode = inode;
    listening.push_back(socket);
  }
  return listening;
}

bool address_collides(const socket_address& listener, const socket_address& source) noexcept {
  if (listener.is_any_ipv6() || source.is_any_ipv6()) return true;  // dual-stack ::
  if (listener.is_any_ipv4()) return source.is_ipv4();
  if (source.is_any_ipv4()) return listener.is_ipv4();
  return listener == source;
}

std::vector<uint16_t> colliding_listen_ports(const std::vector<listening_socket>& listeners,
                                             const std::vector<socket_address>& sources) {
  std::vector<uint16_t> ports;
  for (const listening_socket& listener : listeners) {
    const bool collides = std::any_of(
        sources.begin(), sources.end(),
        [&](const socket_address& source) { return address_collides(listener.address, source); });
    if (collides) ports.push_back(listener.port);
  }
  std::sort(ports.begin(), ports.end());
  ports.erase(std::unique(ports.begin(), ports.end()), ports.end());
  return ports;
}

std::vector<uint16_t> ports_in_spans(const std::vector<port_span>& spans, uint32_t low,
                                     uint32_t high) {
  std::vector<uint16_t> ports;
  high = std::min<uint32_t>(high, 65535);
  if (low > high) return ports;
  std::vector<bool> taken(high - low + 1);
  for (const port_span& span : spans) {
    const uint32_t a = std::max(span.low, low), b = std::min(span.high, high);
    for (uint32_t port = a; port <= b && a <= b; ++port)
      taken[port - low] = true;
  }
  for (uint32_t port = low; port <= high; ++port) {
    if (taken[port - low]) ports.push_back(uint16_t(port));
  }
  return ports;
}

result<std::vector<listening_socket>> read_listening_sockets(const std::string& root) {
  // The real host's: the kernel lists only listeners (sysctl/sock_diag.hh).
  if (root == "/") {
    if (auto listeners = listening_sockets_from_kernel()) return std::move(*listeners);
  }
  std::vector<listening_socket> listeners;
  for (const bool ipv6 : {false, true}) {
    const std::string path = under_root(root, ipv6 ? "proc/net/tcp6" : "proc/net/tcp");
    auto text = read_small_file(path);
    if (!text) continue;
    auto parsed = parse_listening_sockets(*text, ipv6);
    if (!parsed) return make_error(path + ": " + parsed.error().message);
    listeners.insert(listeners.end(), parsed->begin(), parsed->end());
  }
  return listeners;
}

result<avoided_ports> ports_to_avoid(const std::string& root,
                                     const std::vector<std::string>& sources, uint32_t low,
                                     uint32_t high) {
  std::vector<socket_address> addresses;
  for (const std::string& source : sources) {
    auto address = parse_socket_address(source);
    if (!address) return make_error("source '" + source + "' is not an IPv4 or IPv6 address");
    addresses.push_back(*address);
  }

  std::vector<port_span> reserved_spans;
  const std::string reserved_path = under_root(root, "proc/sys/net/ipv4/ip_local_reserved_ports");
  if (auto text = read_small_file(reserved_path)) {
    auto spans = parse_port_list(*text);
    if (!spans) return make_error(reserved_path + ": " + spans.error().message);
    reserved_spans = std::move(*spans);
  }
  const std::vector<uint16_t> reserved = ports_in_spans(reserved_spans, low, high);

  auto listeners = read_listening_sockets(root);
  if (!listeners) return listeners.error();
  std::vector<uint16_t> listening;
  for (uint16_t port : colliding_listen_ports(*listeners, addresses)) {
    if (port >= low && port <= high && !std::binary_search(reserved.begin(), reserved.end(), port))
      listening.push_back(port);
  }

  avoided_ports avoided;
  avoided.reserved = reserved.size();
  avoided.listening = listening.size();
  avoided.ports.reserve(reserved.size() + listening.size());
  std::merge(reserved.begin(), reserved.end(), listening.begin(), listening.end(),
             std::back_inserter(avoided.ports));
  return avoided;
}

std::optional<listener_process> find_listener_process(const std::string& root, uint16_t port,
                                                      size_t max_fds) {
  std::vector<uint64_t> inodes;
  if (auto listeners = read_listening_sockets(root)) {
    for (const listening_socket& socket : *listeners)
      if (socket.port == port && socket.inode != 0) inodes.push_back(socket.inode);
  }
  if (inodes.empty()) return std::nullopt;
  const std::string proc = under_root(root, "proc");
  DIR* processes = ::opendir(proc.c_str());
  if (processes == nullptr) return std::nullopt;
  std::optional<listener_process> found;
  size_t looked = 0;
  while (!found && looked < max_fds) {
    const dirent* entry = ::readdir(processes);
    if (entry == nullptr) break;
    const std::string_view name = entry->d_name;
    if (name.empty() ||
        !std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; }))
      continue;
    const std::string fd_dir = proc + "/" + std::string(name) + "/fd";
    DIR* fds = ::opendir(fd_dir.c_str());
    if (fds == nullptr) continue;
    while (const dirent* fd = ::readdir(fds)) {
      if (++looked > max_fds) break;
      if (fd->d_name[0] == '.') continue;
      char link[64];
      const std::string path = fd_dir + "/" + fd->d_name;
      const ssize_t n = ::readlink(path.c_str(), link, sizeof link - 1);
      if (n <= 0) continue;
      const std::string_view target(link, size_t(n));
      if (target.substr(0, 8) != "socket:[" || target.back() != ']') continue;
      uint64_t inode = 0;
      for (char c : target.substr(8, target.size() - 9)) {
        if (c < '0' || c > '9') break;
        inode = inode * 10 + uint64_t(c - '0');
      }
      if (std::find(inodes.begin(), inodes.end(), inode) == inodes.end()) continue;
      listener_process owner;
      owner.pid = std::atoi(std::string(name).c_str());
      const std::string base = proc + "/" + std::string(name);
      if (auto comm = read_small_file(base + "/comm")) {
        owner.name = *comm;
        while (!owner.name.empty() && owner.name.back() == '\n')
          owner.name.pop_back();
      }
      if (auto status = read_small_file(base + "/status")) {
        const size_t at = status->find("Cpus_allowed_list:");
        if (at != std::string::npos) {
          size_t start = status->find_first_not_of(" \t", at + 18);
          const size_t end = status->find('\n', at);
          if (start != std::string::npos && start < end)
            owner.cpus_allowed_list = status->substr(start, end - start);
        }
      }
      found = owner;
      break;
    }
    ::closedir(fds);
  }
  ::closedir(processes);
  return found;
}

}  // namespace horde::sysctl
