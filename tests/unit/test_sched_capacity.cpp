// Capacity laws (issue 4, "Capacity laws"): the three plugins on hand-computed sequences, and
// properties over many random histories: never out of [1, N], never beyond the clamp, and a
// constant S gives the same capacity under every law.
#include <catch2/catch.hpp>

#include <cmath>

#include "test_sched_support.hpp"

using namespace ablate;
using namespace ablate::test;

namespace {

std::vector<SumRecord> history_of(std::initializer_list<std::int32_t> sums, std::int32_t n) {
  std::vector<SumRecord> out;
  std::int32_t stage = 0;
  for (auto s : sums) out.push_back({s, n, 0.0f, stage++});
  return out;
}

}  // namespace

TEST_CASE("instant: N/(|S|+1) from the last sum, clamped to 10x per step, bounded to [1, N]",
          "[sched][capacity]") {
  const auto law = make_law("instant");
  // A first capacity is not clamped: nothing to compare with.
  CHECK(law->next(history_of({19}, 100), 0) == Approx(5.0));   // 100 / 20
  CHECK(law->next(history_of({19, -49}, 100), 5) == Approx(2.0));  // 100 / 50, within [0.5, 50]
  CHECK(law->next(history_of({0}, 100), 2) == Approx(20.0));      // 100 wanted, 10x of 2
  CHECK(law->next(history_of({99}, 100), 20) == Approx(2.0));     // 1 wanted, 20 / 10
  CHECK(law->next(history_of({100}, 100), 1) == Approx(1.0));     // 100/101 < 1: bounded
  CHECK(law->next(history_of({0}, 100), 0) == Approx(100.0));     // N at most
}

TEST_CASE("moving_average: the weighted mean |S| of the last k sums, stale ones weighing less",
          "[sched][capacity]") {
  const auto law = make_law("moving_average", {{"k", std::int64_t{3}}});
  const auto h = history_of({10, 30, -50, 70}, 200);
  // Linear weights: the newest 3, the one before 2, the oldest kept 1.
  CHECK(law->estimate(h) == Approx((1 * 30.0 + 2 * 50.0 + 3 * 70.0) / 6.0));
  CHECK(law->next(h, 0) == Approx(200.0 / (340.0 / 6.0 + 1.0)));
  // A unit that flips the way it leans is not noisy: its magnitudes are averaged.
  CHECK(law->estimate(history_of({40, -40}, 200)) == Approx(40.0));
  // A history shorter than k: the weighted mean of what there is.
  CHECK(law->estimate(history_of({10, 30}, 200)) == Approx((10.0 + 2 * 30.0) / 3.0));
  const auto k1 = make_law("moving_average", {{"k", std::int64_t{1}}});
  CHECK(k1->estimate(h) == Approx(70.0));
  const auto equal = make_law("moving_average", {{"k", std::int64_t{3}}, {"weights", std::string("equal")}});
  CHECK(equal->estimate(h) == Approx((30.0 + 50.0 + 70.0) / 3.0));

  // Sums an earlier run recorded (stage < 0: stale) weigh stale_weight (0.5) times as much.
  auto carried = history_of({30, -50, 70}, 200);
  carried[0].stage = carried[1].stage = -1;
  CHECK(carried[0].stale());
  CHECK(law->estimate(carried) == Approx((0.5 * 30.0 + 1.0 * 50.0 + 3 * 70.0) / 4.5));
  const auto ignore = make_law("moving_average", {{"k", std::int64_t{3}}, {"stale_weight", 0.0}});
  CHECK(ignore->estimate(carried) == Approx(70.0));
  carried[2].stage = -1;  // only stale sums: the newest stands
  CHECK(ignore->estimate(carried) == Approx(70.0));
}

TEST_CASE("exponential: s <- alpha |S| + (1 - alpha) s, oldest first", "[sched][capacity]") {
  const auto law = make_law("exponential", {{"alpha", 0.5}});
  const auto h = history_of({10, 30, -50, 70}, 200);
  // 10 -> 20 -> 35 -> 52.5
  CHECK(law->estimate(h) == Approx(52.5));
  CHECK(law->next(h, 0) == Approx(200.0 / 53.5));
  const auto slow = make_law("exponential", {{"alpha", 0.25}});
  CHECK(slow->estimate(history_of({-100, 0}, 200)) == Approx(75.0));
  const auto quick = make_law("exponential", {{"alpha", 1.0}});
  CHECK(quick->estimate(h) == Approx(70.0));
}

TEST_CASE("max_factor and max_percent bound each step", "[sched][capacity]") {
  const auto factor2 = make_law("instant", {{"max_factor", 2.0}});
  CHECK(factor2->next(history_of({0}, 1000), 10) == Approx(20.0));
  CHECK(factor2->next(history_of({999}, 1000), 10) == Approx(5.0));
  const auto percent = make_law("instant", {{"max_percent", 50.0}});
  CHECK(percent->limits().max_percent == 50.0);
  CHECK(percent->next(history_of({0}, 1000), 10) == Approx(15.0));    // 10x allows 100
  CHECK(percent->next(history_of({999}, 1000), 10) == Approx(5.0));   // 10x allows 1
  CHECK(percent->next(history_of({99}, 1000), 10) == Approx(10.0));   // 1000/100: in bounds
}

TEST_CASE("every law stays in [1, N] and within the clamp, over random histories",
          "[sched][capacity][property]") {
  const std::vector<std::shared_ptr<CapacityLaw>> laws = {
      make_law("instant"), make_law("moving_average", {{"k", std::int64_t{4}}}),
      make_law("exponential", {{"alpha", 0.3}}),
      make_law("instant", {{"max_factor", 3.0}, {"max_percent", 20.0}}),
      make_law("exponential", {{"max_percent", 5.0}})};
  Rng rng(20240601);
  int checked = 0;
  for (int trial = 0; trial < 2000; ++trial) {
    const auto n = static_cast<std::int32_t>(1 + rng.below(trial % 2 ? 100 : 1000000));
    std::vector<SumRecord> history;
    const auto length = 1 + rng.below(12);
    for (std::uint64_t i = 0; i < length; ++i)
      history.push_back({static_cast<std::int32_t>(static_cast<std::int64_t>(rng.below(2 * n + 1)) - n), n,
                         0.0f, static_cast<std::int32_t>(i)});
    const double current = 1.0 + rng.uniform() * (n - 1);
    for (const auto& law : laws) {
      const double next = law->next(history, current);
      INFO("N " << n << " current " << current << " next " << next);
      REQUIRE(next >= 1.0);
      REQUIRE(next <= n);
      const auto& limits = law->limits();
      REQUIRE(next >= current / limits.max_factor * (1 - 1e-12));
      REQUIRE(next <= current * limits.max_factor * (1 + 1e-12));
      if (limits.max_percent > 0) {
        REQUIRE(next >= current * (1 - limits.max_percent / 100) * (1 - 1e-12));
        REQUIRE(next <= current * (1 + limits.max_percent / 100) * (1 + 1e-12));
      }
      ++checked;
    }
  }
  CHECK(checked == 10000);
}

TEST_CASE("a constant S gives the same capacity under all three laws", "[sched][capacity][property]") {
  const auto instant = make_law("instant");
  const auto average = make_law("moving_average", {{"k", std::int64_t{5}}});
  const auto smooth = make_law("exponential", {{"alpha", 0.3}});
  Rng rng(7);
  for (int trial = 0; trial < 500; ++trial) {
    const auto n = static_cast<std::int32_t>(1 + rng.below(100000));
    const auto s = static_cast<std::int32_t>(static_cast<std::int64_t>(rng.below(2 * n + 1)) - n);
    std::vector<SumRecord> history(1 + rng.below(20), SumRecord{s, n, 0.0f, 0});
    const double current = trial % 3 == 0 ? 0.0 : 1.0 + rng.uniform() * (n - 1);
    const double expected = instant->next(history, current);
    REQUIRE(average->next(history, current) == Approx(expected).epsilon(1e-12));
    REQUIRE(smooth->next(history, current) == Approx(expected).epsilon(1e-12));
  }
}
