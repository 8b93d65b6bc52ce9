// Runs a fuzz target without libFuzzer (g++ builds): first every file in the
// corpus directory, then N inputs from a seeded generator whose lengths and
// bytes are skewed toward protocol-looking data. Deterministic, so a failure
// reproduces; the libFuzzer build (clang) does the coverage-guided search.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int main(int argc, char** argv) {
  long iterations = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 10000;
  if (argc > 2 && std::filesystem::is_directory(argv[2])) {
    for (const auto& entry : std::filesystem::directory_iterator(argv[2])) {
      std::ifstream in(entry.path(), std::ios::binary);
      std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), {});
      LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
    }
  }
  std::mt19937_64 rng(12345);
  std::vector<uint8_t> input;
  static const char alphabet[] =
      "HTTP/1.1 101 \r\n:abcUpgradeConnectionSec-WebSocket-Accept websocket";
  for (long i = 0; i < iterations; ++i) {
    size_t size = rng() % (i % 16 == 0 ? 70000 : 512);
    input.resize(size);
    for (auto& byte : input) {
      uint64_t r = rng();
      byte = (r & 3) == 0 ? uint8_t(r >> 8) : uint8_t(alphabet[(r >> 8) % (sizeof alphabet - 1)]);
    }
    LLVMFuzzerTestOneInput(input.data(), input.size());
  }
  std::printf("replayed %ld generated inputs\n", iterations);
  return 0;
}
