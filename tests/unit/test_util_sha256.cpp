#include <catch2/catch.hpp>

#include "support.hpp"
#include "util/program.hpp"
#include "util/sha256.hpp"

using ablate::sha256_hex;

// FIPS 180-2 / NIST CAVP example vectors.
TEST_CASE("sha256 of the NIST example messages", "[util]") {
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(sha256_hex(std::string(1'000'000, 'a')) ==
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("sha256 fed in pieces equals sha256 of the whole", "[util]") {
  std::string message;
  for (int i = 0; i < 1000; ++i) message += static_cast<char>(i * 7 + 3);
  const std::string whole = sha256_hex(message);
  // Pieces of every size up to two blocks cross the 64-byte block boundary in every way.
  for (std::size_t piece = 1; piece <= 130; ++piece) {
    ablate::Sha256 hash;
    for (std::size_t at = 0; at < message.size(); at += piece)
      hash.update(std::string_view(message).substr(at, piece));
    INFO("piece size " << piece);
    CHECK(hash.hex() == whole);
  }
}

TEST_CASE("sha256 around the padding boundary matches sha256sum", "[util]") {
  ablate::test::TempDir dir("ablate-sha");
  // 55, 56 and 64 bytes: the lengths where the padding needs one block or two.
  for (std::size_t size : {55u, 56u, 63u, 64u, 65u, 119u, 120u, 200'000u}) {
    std::string bytes(size, '\0');
    for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>((i * 131) % 251);
    const auto file = dir / ("data-" + std::to_string(size));
    ablate::test::write_text(file, bytes);
    const auto sum = ablate::program_output({"sha256sum", file.string()});
    REQUIRE(sum);
    INFO("size " << size);
    CHECK(ablate::sha256_file(file) == sum->substr(0, 64));
    CHECK(sha256_hex(bytes) == sum->substr(0, 64));
  }
}

TEST_CASE("sha256 of a missing file names it", "[util]") {
  CHECK_THROWS_WITH(ablate::sha256_file("/no/such/file.so"),
                    Catch::Contains("/no/such/file.so") && Catch::Contains("No such file"));
}
