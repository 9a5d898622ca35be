// The sum cache (issue 4, "The sum cache"): queries, the keep bound, measured memory, and the
// self-checking snapshot: a round trip keeps every field; any flipped byte, a truncation or
// another run's snapshot is refused.
#include <catch2/catch.hpp>

#include <malloc.h>
#if defined(__SANITIZE_ADDRESS__)
// ASan's allocator interface (sanitizer/allocator_interface.h, which GCC does not install).
extern "C" std::size_t __sanitizer_get_current_allocated_bytes();
#endif

#include "stats/sum_cache_io.hpp"
#include "support.hpp"
#include "util/atomic_file.hpp"

using namespace ablate;

namespace {

/// Bytes the heap holds for the program. ASan replaces glibc's allocator, whose mallinfo2()
/// then reads 0, so under ASan ask its allocator instead.
std::size_t heap_in_use() {
#if defined(__SANITIZE_ADDRESS__)
  return __sanitizer_get_current_allocated_bytes();
#else
  return mallinfo2().uordblks;
#endif
}

/// A small cache with every kind of field set.
SumCache sample_cache() {
  SumCache sums(4);
  for (std::int32_t stage = 0; stage < 6; ++stage) {
    for (int i = 0; i < 3; ++i)
      sums.record({0, i}, {stage * 7 - 10 * i, 120, 1.5f * static_cast<float>(stage + i), stage});
    sums.record({1, 0}, {-stage, 120, 0.0f, stage});
    StageRecord st{stage, 2 * stage, 0.25 * stage, 0.5, 0.1 * stage, 0.05 * stage,
                   stage == 0 ? "phase0" : "layer hidden" + std::to_string(stage)};
    st.layer = stage == 0 ? 1 : 0;
    sums.record_stage(st);
  }
  return sums;
}

SnapshotIdentity identity() { return {"demo seed 3", {{"hidden", 3, {}}, {"out", 1, {0}}}}; }

}  // namespace

TEST_CASE("sum cache queries: latest, trend, gold zone and margins of a layer", "[sched][sums]") {
  SumCache sums(3);
  const Zones zones;  // N = 100: epsilon 10, tau 80
  for (std::int32_t stage = 0; stage < 5; ++stage) {
    sums.record({2, 0}, {50, 100, 0, stage});          // gold
    sums.record({2, 1}, {90 - stage, 100, 0, stage});  // collapsed
    sums.record({2, 2}, {-5, 100, 0, stage});          // noisy
    sums.record({2, 3}, {-20 * stage, 100, 0, stage}); // noisy at first, gold from stage 1
    sums.record({3, 0}, {1, 100, 0, stage});
  }
  REQUIRE(sums.latest({2, 1}));
  CHECK(sums.latest({2, 1})->s == 86);
  CHECK_FALSE(sums.latest({2, 9}));
  CHECK(sums.history({2, 1}).size() == 3);  // keep = 3: the oldest two were dropped
  CHECK(sums.history({2, 1}).front().stage == 2);
  const auto trend = sums.trend({2, 3}, 2);
  REQUIRE(trend.size() == 2);
  CHECK(trend[0].s == -60);
  CHECK(trend[1].s == -80);
  CHECK(sums.gold_zone(2, zones) == std::vector<UnitId>{{2, 0}});  // |-80| >= tau: collapsed now
  CHECK(sums.margins(2) == std::vector<double>{0.5, 0.86, 0.05, 0.8});
  CHECK(sums.margins(7).empty());
}

TEST_CASE("100k units x 50 records stay under 100 MB, measured", "[sched][sums][memory]") {
  const std::size_t heap_before = heap_in_use();
  std::size_t bytes = 0;
  {
    SumCache sums(50);
    for (std::int32_t stage = 0; stage < 50; ++stage)
      for (int unit = 0; unit < 100000; ++unit)
        sums.record({unit / 1000, unit % 1000}, {stage - unit % 7, 60000, 3.0f, stage});
    bytes = sums.bytes();
    const std::size_t heap = heap_in_use() - heap_before;
    INFO("bytes() " << bytes << ", heap growth " << heap);
    CHECK(sums.units().size() == 100000);
    CHECK(sums.history({99, 999}).size() == 50);
    CHECK(bytes < 100u * 1000 * 1000);
    CHECK(heap < 100u * 1000 * 1000);
    // bytes() is an honest account of what the heap holds.
    CHECK(static_cast<double>(bytes) > 0.85 * static_cast<double>(heap));
    CHECK(static_cast<double>(bytes) < 1.15 * static_cast<double>(heap));
  }
  CHECK(bytes > 80u * 1000 * 1000);  // the records themselves are 80 MB
}

TEST_CASE("a snapshot round trip keeps every field", "[sched][sums][snapshot]") {
  const SumCache sums = sample_cache();
  const SumSnapshot back = decode_sums(encode_sums(sums, identity()), "test");
  CHECK(back.sums == sums);
  CHECK(back.sums.keep() == 4);
  CHECK(back.sums.stages().at(3).label == "layer hidden3");
  CHECK(back.sums.stages().at(0).layer == 1);
  CHECK(back.sums.history({0, 2}).back().capacity == 1.5f * 7);
  CHECK(back.identity.run == "demo seed 3");
  REQUIRE(back.identity.layers.size() == 2);
  CHECK(back.identity.layers[1].name == "out");
  CHECK(back.identity.layers[0].size == 3);
  CHECK_NOTHROW(require_identity(back.identity, identity(), "test"));
}

TEST_CASE("a snapshot with any one byte flipped is refused", "[sched][sums][snapshot]") {
  const std::string bytes = encode_sums(sample_cache(), identity());
  REQUIRE(bytes.size() > 200);
  for (std::size_t at = 0; at < bytes.size(); ++at) {
    std::string damaged = bytes;
    damaged[at] = static_cast<char>(damaged[at] ^ 0x01);
    INFO("byte " << at);
    CHECK_THROWS_WITH(decode_sums(damaged, "sumcache.bin"),
                      Catch::StartsWith("sumcache.bin: ") && Catch::Contains("refusing"));
  }
  // A flip in the payload is caught by its checksum, with both digests named.
  std::string damaged = bytes;
  damaged[bytes.size() - 3] ^= 0x40;
  CHECK_THROWS_WITH(decode_sums(damaged, "f"), Catch::Contains("checksum mismatch"));
}

TEST_CASE("a truncated, extended, foreign or future snapshot is refused", "[sched][sums][snapshot]") {
  const std::string bytes = encode_sums(sample_cache(), identity());
  CHECK_THROWS_WITH(decode_sums(bytes.substr(0, bytes.size() - 1), "f"),
                    Catch::Contains("truncated"));
  CHECK_THROWS_WITH(decode_sums(bytes + "x", "f"), Catch::Contains("follow it"));
  CHECK_THROWS_WITH(decode_sums("", "f"), Catch::Contains("not a sum-cache snapshot"));
  CHECK_THROWS_WITH(decode_sums("PK\x03\x04 something else entirely, long enough to have a header "
                                "if it were one, which it is not at all",
                                "f"),
                    Catch::Contains("not a sum-cache snapshot"));
  std::string future = bytes;
  future[16] = 2;  // the version field
  CHECK_THROWS_WITH(decode_sums(future, "f"),
                    Catch::Contains("format version 2, but this build reads version 1"));
}

TEST_CASE("a snapshot announcing a huge history is refused before reserving it",
          "[sched][sums][snapshot][fuzz]") {
  // Found by tests/fuzz/fuzz_sum_cache: an intact payload with keep = 2^55 made the first
  // record reserve 2^55 records (ASan: allocation-size-too-big) instead of an Error.
  const std::string bytes = encode_sums(SumCache(std::size_t{1} << 55), identity());
  CHECK_THROWS_WITH(decode_sums(bytes, "f"), Catch::Contains("sums per unit"));
  CHECK_NOTHROW(decode_sums(encode_sums(SumCache(1000), identity()), "f"));
}

TEST_CASE("a snapshot of another run or another model is refused", "[sched][sums][snapshot]") {
  const SumSnapshot snapshot = decode_sums(encode_sums(sample_cache(), identity()), "f");
  SnapshotIdentity other_run = identity();
  other_run.run = "demo seed 4";
  CHECK_THROWS_WITH(require_identity(snapshot.identity, other_run, "f"),
                    Catch::Contains("belongs to run 'demo seed 3', not to 'demo seed 4'"));
  SnapshotIdentity other_model = identity();
  other_model.layers[0].size = 64;
  CHECK_THROWS_WITH(require_identity(snapshot.identity, other_model, "f"),
                    Catch::Contains("made for unit layers [hidden (3), out (1)], but this model "
                                    "has [hidden (64), out (1)]"));
  other_model.layers.pop_back();
  CHECK_THROWS(require_identity(snapshot.identity, other_model, "f"));
}

TEST_CASE("the snapshot as a file and inside a checkpoint", "[sched][sums][snapshot]") {
  test::TempDir tmp("ablate-sums");
  const SumCache sums = sample_cache();
  write_sums(tmp / "sumcache.bin", sums, identity());
  CHECK(read_sums(tmp / "sumcache.bin", identity()) == sums);
  std::size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(tmp.path())) {
    ++files;
    CHECK_FALSE(is_temporary_name(entry.path().filename().string()));
  }
  CHECK(files == 1);
  std::string bytes = read_file(tmp / "sumcache.bin");
  bytes[bytes.size() / 2] ^= 0x10;
  write_atomic(tmp / "sumcache.bin", bytes);
  CHECK_THROWS_WITH(read_sums(tmp / "sumcache.bin", identity()),
                    Catch::Contains((tmp / "sumcache.bin").string()));

  StateStore state;
  save_sums(sums, identity(), state, "sums/");
  CHECK(load_sums(state, identity(), "sums/") == sums);
  SnapshotIdentity other = identity();
  other.run = "elsewhere";
  CHECK_THROWS_WITH(load_sums(state, other, "sums/"),
                    Catch::StartsWith("checkpoint tensor sums/snapshot: "));
}
