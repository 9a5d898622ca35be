// The sum cache reader (stats/sum_cache_io.cpp): decode_sums on the input as a snapshot. Twice:
// as given (the header checks), then, when it starts with the magic, with the header's payload
// size and SHA-256 made to match what follows, so the fuzzer reaches the payload decoder that a
// random digest would keep it out of.
#include <cstring>

#include "fuzz_support.hpp"
#include "stats/sum_cache_io.hpp"
#include "util/sha256.hpp"

namespace {

constexpr std::string_view kMagic = "ABLATE-SUMCACHE\n";
constexpr std::size_t kSizeAt = kMagic.size() + 4 + 3 * 8;  // the payload size's offset
constexpr std::size_t kHeaderSize = kMagic.size() + 4 + 4 * 8 + 64;

void decode(std::string_view bytes) {
  try {
    (void)ablate::decode_sums(bytes, "fuzz.sums");
  } catch (const ablate::Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  decode(bytes);
  if (bytes.size() < kHeaderSize || bytes.compare(0, kMagic.size(), kMagic) != 0) return 0;
  const std::uint64_t payload = bytes.size() - kHeaderSize;
  for (int i = 0; i < 8; ++i) bytes[kSizeAt + i] = static_cast<char>(payload >> (8 * i));
  const std::string digest = ablate::sha256_hex(std::string_view(bytes).substr(kHeaderSize));
  bytes.replace(kSizeAt + 8, 64, digest);
  decode(bytes);
  return 0;
}
