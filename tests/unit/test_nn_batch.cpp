// nn::gather_rows: a shuffled batch copied from a dataset's rows, at one and two threads.
#include <catch2/catch.hpp>
#include <numeric>
#include <vector>

#include "ablate/error.hpp"
#include "ablate/nn.hpp"

using namespace ablate;

TEST_CASE("gather_rows copies the chosen rows in order, at any thread count", "[nn]") {
  Matrix source(300, 7);
  for (Eigen::Index i = 0; i < source.size(); ++i) source.data()[i] = static_cast<float>(i);
  std::vector<std::uint32_t> order(300);
  std::iota(order.begin(), order.end(), 0u);
  Rng(5).shuffle(std::span<std::uint32_t>(order));
  const int before = threads();
  for (int t : {1, 2}) {
    set_threads(t);
    Matrix batch = Matrix::Constant(128, 7, -1.0f);
    const std::span<const std::uint32_t> rows(order.data() + 100, 97);  // a partial batch
    nn::gather_rows(source, rows, batch);
    for (int i = 0; i < 97; ++i)
      CHECK(batch.row(i) == source.row(rows[static_cast<std::size_t>(i)]));
    CHECK((batch.bottomRows(128 - 97).array() == -1.0f).all());  // rows past the batch untouched
  }
  set_threads(before);
  Matrix small(4, 7), wrong(8, 6);
  const std::vector<std::uint32_t> five{0, 1, 2, 3, 4}, outside{300};
  REQUIRE_THROWS_AS(nn::gather_rows(source, five, small), Error);
  REQUIRE_THROWS_AS(nn::gather_rows(source, five, wrong), Error);
  REQUIRE_THROWS_WITH(nn::gather_rows(source, outside, small), Catch::Contains("row 300"));
}
