#pragma once
// SHA-256 (FIPS 180-4), for plugin fingerprints in manifests and checksums of stored state.
#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace ablate {

/// Incremental hashing: update() any number of times, then hex() once.
class Sha256 {
 public:
  Sha256();
  void update(std::string_view bytes);
  /// The digest as 64 lowercase hex digits. Ends the hashing: update() after it is an error.
  std::string hex();

 private:
  void compress(const std::uint8_t* block);

  std::array<std::uint32_t, 8> state_;
  std::array<std::uint8_t, 64> pending_{};
  std::size_t pending_size_ = 0;
  std::uint64_t total_bytes_ = 0;
  bool finished_ = false;
};

/// SHA-256 of `bytes`, as hex.
std::string sha256_hex(std::string_view bytes);

/// SHA-256 of a file's contents, as hex; read in chunks so large files cost no memory.
/// Throws ablate::Error naming the file when it cannot be read.
std::string sha256_file(const std::filesystem::path& file);

}  // namespace ablate
