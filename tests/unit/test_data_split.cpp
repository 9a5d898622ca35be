// Seeded row selection (ablate/split.hpp) and the hashed bag-of-words (ablate/text_features.hpp).
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <set>
#include <string>

#include "ablate/split.hpp"
#include "ablate/text_features.hpp"
#include "test_data_support.hpp"

using namespace ablate;
using namespace ablate::test;

namespace {
// Unbalanced labels: class c has 10 + 7c rows, interleaved.
std::vector<std::int32_t> uneven_labels(int classes) {
  std::vector<std::int32_t> labels;
  for (int round = 0; round < 10 + 7 * (classes - 1); ++round)
    for (int c = 0; c < classes; ++c)
      if (round < 10 + 7 * c) labels.push_back(c);
  return labels;
}
}  // namespace

TEST_CASE("stratified picks keep every class within one sample of its share", "[data]") {
  const auto labels = uneven_labels(5);
  const auto pool = class_counts(labels, 5);
  for (std::size_t count : {std::size_t{0}, std::size_t{1}, std::size_t{13}, std::size_t{37},
                            labels.size() / 2, labels.size() - 1, labels.size()}) {
    Rng rng(count);
    const RowSplit split = pick_rows(labels, count, rng);
    REQUIRE(split.picked.size() == count);
    REQUIRE(split.rest.size() == labels.size() - count);
    std::vector<std::int32_t> picked_labels;
    for (auto row : split.picked) picked_labels.push_back(labels[row]);
    const auto picked = class_counts(picked_labels, 5);
    for (std::size_t c = 0; c < 5; ++c) {
      const double exact = static_cast<double>(count) * static_cast<double>(pool[c]) /
                           static_cast<double>(labels.size());
      CHECK(std::abs(static_cast<double>(picked[c]) - exact) < 1.0);
    }
    // Each part ascending, together every row exactly once.
    CHECK(std::is_sorted(split.picked.begin(), split.picked.end()));
    CHECK(std::is_sorted(split.rest.begin(), split.rest.end()));
    std::set<std::size_t> all(split.picked.begin(), split.picked.end());
    all.insert(split.rest.begin(), split.rest.end());
    CHECK(all.size() == labels.size());
  }
}

TEST_CASE("picks are seeded: same seed same rows, another seed other rows", "[data]") {
  const auto labels = uneven_labels(3);
  for (bool stratified : {true, false}) {
    Rng a(42), b(42), c(43);
    const auto first = pick_rows(labels, 20, a, stratified).picked;
    CHECK(first == pick_rows(labels, 20, b, stratified).picked);
    CHECK(first != pick_rows(labels, 20, c, stratified).picked);
  }
  Rng rng(1);
  CHECK_THROWS_WITH(pick_rows(labels, labels.size() + 1, rng), Catch::Contains("cannot pick"));
}

TEST_CASE("select_rows copies rows and labels in the order given", "[data]") {
  Samples samples;
  samples.x.resize(4, 2);
  samples.x << 0, 1, 10, 11, 20, 21, 30, 31;
  samples.y = {0, 1, 2, 3};
  const std::vector<std::size_t> rows = {3, 1};
  const Samples picked = select_rows(samples, rows);
  CHECK(picked.y == std::vector<std::int32_t>{3, 1});
  CHECK(picked.x(0, 1) == 31.0f);
  CHECK(picked.x(1, 0) == 10.0f);
}

namespace {
/// The kernel's THP mode ("always", "madvise" or "never"), "" if it has none.
std::string huge_page_mode() {
  std::ifstream in("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string line;
  std::getline(in, line);
  const auto open = line.find('['), close = line.find(']');
  return open == std::string::npos ? "" : line.substr(open + 1, close - open - 1);
}

/// AnonHugePages, in kB, of the mapping of this process that holds `address`.
long huge_kb_around(const void* address) {
  const auto at = reinterpret_cast<std::uintptr_t>(address);
  std::ifstream smaps("/proc/self/smaps");
  bool inside = false;
  for (std::string line; std::getline(smaps, line);) {
    unsigned long begin = 0, end = 0;
    if (std::sscanf(line.c_str(), "%lx-%lx ", &begin, &end) == 2 && line.find(':') > line.find(' '))
      inside = begin <= at && at < end;
    else if (inside && line.rfind("AnonHugePages:", 0) == 0)
      return std::stol(line.substr(14));
  }
  return -1;
}
}  // namespace

TEST_CASE("a large sample matrix is backed by huge pages where the kernel offers them", "[data]") {
  // 64 MiB of rows copied by select_rows, as the host carves a training split.
  Samples pool;
  pool.x.setConstant(2, 4096, 1.0f);
  pool.y = {0, 1};
  const std::vector<std::size_t> rows(4096, 1);
  const Samples train = select_rows(pool, rows);
  CHECK(train.x(4095, 4095) == 1.0f);
  const std::string mode = huge_page_mode();
  if (mode != "always" && mode != "madvise") {
    WARN("transparent huge pages are '" << mode << "' here: nothing to check");
    return;
  }
  CHECK(huge_kb_around(train.x.data() + train.x.size() / 2) >= 2048);
}

TEST_CASE("hold_out_test is fixed by the dataset's name and stratified", "[data]") {
  Samples all;
  const auto labels = uneven_labels(4);
  all.y = labels;
  all.x.resize(static_cast<Eigen::Index>(labels.size()), 1);
  for (Eigen::Index i = 0; i < all.x.rows(); ++i) all.x(i, 0) = static_cast<float>(i);
  const auto [train, test] = hold_out_test(all, 0.25, "some_data");
  const auto [train_again, test_again] = hold_out_test(all, 0.25, "some_data");
  const auto [other_train, other_test] = hold_out_test(all, 0.25, "other_data");
  CHECK(test.size() == static_cast<std::size_t>(std::llround(0.25 * labels.size())));
  CHECK(train.size() + test.size() == labels.size());
  CHECK(test.x == test_again.x);
  CHECK(test.x != other_test.x);
  const auto pool = class_counts(labels, 4), held = class_counts(test.y, 4);
  for (std::size_t c = 0; c < 4; ++c)
    CHECK(std::abs(static_cast<double>(held[c]) - 0.25 * static_cast<double>(pool[c])) < 1.0);
}

TEST_CASE("tokenize lowercases words and keeps contractions", "[data]") {
  CHECK(tokenize("It's a GREAT film -- isn't it? 10/10!") ==
        std::vector<std::string>{"it's", "a", "great", "film", "isn't", "it", "10", "10"});
  CHECK(tokenize("the movie does n't ' work") ==
        std::vector<std::string>{"the", "movie", "does", "n't", "work"});
  CHECK(tokenize("Café au lait") == std::vector<std::string>{"café", "au", "lait"});
  CHECK(tokenize("  ...  ").empty());
}

TEST_CASE("fnv1a is the published 64-bit FNV-1a", "[data]") {
  // Test vectors from the FNV reference (Noll, www.isthe.com/chongo/tech/comp/fnv).
  CHECK(fnv1a("") == 0xcbf29ce484222325ull);
  CHECK(fnv1a("a") == 0xaf63dc4c8601ec8cull);
  CHECK(fnv1a("foobar") == 0x85944171f73967e8ull);
}

TEST_CASE("featurize hashes words into columns, normalised by l2 or by count", "[data]") {
  TextFeatures options;
  options.features = 64;
  const Matrix l2 = featurize({"b a b", "", "A B b"}, options);
  REQUIRE(l2.rows() == 3);
  REQUIRE(l2.cols() == 64);
  const auto a = static_cast<Eigen::Index>(fnv1a("a") % 64), b = static_cast<Eigen::Index>(fnv1a("b") % 64);
  REQUIRE(a != b);
  CHECK(l2(0, b) == Approx(2 / std::sqrt(5.0)));
  CHECK(l2(0, a) == Approx(1 / std::sqrt(5.0)));
  CHECK(l2.row(0).norm() == Approx(1.0));
  CHECK(l2.row(1).isZero());
  CHECK(l2.row(2) == l2.row(0));  // case and order do not matter

  options.norm = TextNorm::count;
  const Matrix counted = featurize({"b a b"}, options);
  CHECK(counted(0, b) == Approx(2.0 / 3));
  CHECK(counted.sum() == Approx(1.0));

  options.bigrams = true;
  const Matrix pairs = featurize({"b a b"}, options);
  const auto ba = static_cast<Eigen::Index>(fnv1a("b a") % 64);
  const auto ab = static_cast<Eigen::Index>(fnv1a("a b") % 64);
  CHECK(pairs.sum() == Approx(1.0));
  CHECK(pairs(0, ba) >= Approx(1.0 / 5));  // 5 terms: b, a, b, "b a", "a b"
  CHECK(pairs(0, ab) >= Approx(1.0 / 5));
  CHECK(pairs(0, b) >= Approx(2.0 / 5));
}
