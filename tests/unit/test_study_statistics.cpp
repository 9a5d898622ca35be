// Statistics of findings (study/statistics.hpp and the check language's diff_ci95, welch_p,
// cohen_d): Boost.Math's t distribution cross-checked against an integral of the t density,
// the interval's coverage and the test's size by simulation, and the check language around them.
#include <catch2/catch.hpp>
#include <cmath>
#include <map>
#include <numbers>

#include "ablate/random.hpp"
#include "study/plan.hpp"
#include "study/statistics.hpp"

using ablate::ConfigError;
using ablate::Location;
using namespace ablate::study;

namespace {

/// P(|T| > t) for Student's t with df degrees of freedom, by Simpson's rule over the density on
/// [0, t]: a computation independent of Boost's incomplete beta function.
double two_sided_p_by_integral(double t, double df) {
  const double c = std::exp(std::lgamma((df + 1) / 2) - std::lgamma(df / 2)) /
                   std::sqrt(df * std::numbers::pi);
  const auto density = [&](double x) { return c * std::pow(1 + x * x / df, -(df + 1) / 2); };
  const int steps = 20000;
  const double h = t / steps;
  double sum = density(0) + density(t);
  for (int i = 1; i < steps; ++i) sum += density(i * h) * (i % 2 ? 4 : 2);
  return 1 - 2 * sum * h / 3;  // 1 - P(-t < T < t)
}

std::vector<double> draw(ablate::Rng& rng, int n, double mean, double sd) {
  std::vector<double> values;
  for (int i = 0; i < n; ++i) values.push_back(mean + sd * rng.normal());
  return values;
}

const Location kWhere{"exp.toml", 3, 1};

/// Evaluates `text` with per-seed values by name.
bool holds(const std::string& text, const std::map<std::string, std::vector<double>>& values) {
  return parse_check(text, kWhere).holds(
      [&](const FigureRef& f) -> std::vector<double> { return values.at(f.str()); });
}

std::string error_of(const std::string& text) {
  try {
    parse_check(text, kWhere);
  } catch (const ConfigError& e) {
    return e.what();
  }
  FAIL("'" << text << "' parsed");
  return {};
}

}  // namespace

TEST_CASE("Welch's t: the statistic, Welch-Satterthwaite df, and p against the t density",
          "[study][statistics]") {
  const std::vector<double> a{1, 2, 3, 4, 5}, b{2, 4, 6, 8, 10};
  const Comparison c = compare_means(a, b);
  // By hand: means 3 and 6, sample variances 2.5 and 10, se = sqrt(2.5/5 + 10/5) = sqrt(2.5),
  // df = 2.5^2 / (0.5^2/4 + 2^2/4) = 5.88235...
  CHECK(c.diff == Approx(-3.0));
  CHECK(c.df == Approx(6.25 / (0.0625 + 1.0)));
  const double t = 3.0 / std::sqrt(2.5);
  CHECK(c.p == Approx(two_sided_p_by_integral(t, c.df)).epsilon(1e-6));
  // The interval is diff -+ q * se with P(|T| > q) = 0.05.
  const double q = (c.hi - c.diff) / std::sqrt(2.5);
  CHECK(c.diff - c.lo == Approx(c.hi - c.diff));
  CHECK(two_sided_p_by_integral(q, c.df) == Approx(0.05).epsilon(1e-6));
  // Cohen's d over the pooled sd sqrt((4 * 2.5 + 4 * 10) / 8) = 2.5.
  CHECK(c.cohen_d == Approx(-3.0 / 2.5));
  // Swapping the arms mirrors everything.
  const Comparison swapped = compare_means(b, a);
  CHECK(swapped.diff == Approx(3.0));
  CHECK(swapped.lo == Approx(-c.hi));
  CHECK(swapped.p == Approx(c.p));
}

TEST_CASE("the 95% interval covers the true difference 95% of the time, and p < 0.05 in 5% "
          "under the null", "[study][statistics]") {
  ablate::Rng rng(2026);
  const int trials = 4000;
  int covered = 0, rejected = 0;
  for (int i = 0; i < trials; ++i) {
    // Five seeds an arm, unequal spreads (Welch's case), a true difference of 0.5.
    const Comparison c = compare_means(draw(rng, 5, 1.5, 1.0), draw(rng, 5, 1.0, 3.0));
    covered += c.lo <= 0.5 && 0.5 <= c.hi;
    const Comparison null = compare_means(draw(rng, 5, 1.0, 1.0), draw(rng, 5, 1.0, 3.0));
    rejected += null.p < 0.05;
  }
  // Binomial sd at 4000 trials: 0.0034; Welch's approximation is slightly conservative here.
  CHECK(covered / double(trials) == Approx(0.95).margin(0.015));
  CHECK(rejected / double(trials) == Approx(0.05).margin(0.015));
}

TEST_CASE("statistics are undefined below two seeds, and exact without spread",
          "[study][statistics]") {
  CHECK(std::isnan(compare_means({1.0}, {2.0, 3.0}).p));
  CHECK(compare_means({1.0}, {2.0, 3.0}).str() == "-");
  // A diverged seed (inf) or a NaN: undefined, never an exception (found by fuzz_expect).
  CHECK(std::isnan(compare_means({1.0, INFINITY}, {2.0, 3.0}).lo));
  CHECK(std::isnan(compare_means({1.0, 2.0}, {std::nan(""), 3.0}).p));
  const Comparison same = compare_means({2, 2, 2}, {2, 2});
  CHECK(same.p == 1.0);
  CHECK(same.lo == 0.0);
  const Comparison apart = compare_means({3, 3, 3}, {2, 2});
  CHECK(apart.p == 0.0);
  CHECK(apart.lo == 1.0);
  CHECK(apart.hi == 1.0);
}

TEST_CASE("check: diff_ci95 holds on the whole interval, welch_p and cohen_d are numbers",
          "[study][check][statistics]") {
  const std::map<std::string, std::vector<double>> clear{{"a.x", {0.90, 0.91, 0.92, 0.93, 0.90}},
                                                         {"b.x", {0.80, 0.82, 0.81, 0.79, 0.80}}},
      noisy{{"a.x", {0.90, 0.70, 0.95, 0.60, 0.99}}, {"b.x", {0.80, 0.85, 0.75, 0.90, 0.70}}};
  CHECK(holds("diff_ci95(a.x, b.x) > 0", clear));
  CHECK(holds("0 < diff_ci95(a.x, b.x)", clear));
  CHECK_FALSE(holds("diff_ci95(a.x, b.x) < 0", clear));
  CHECK(holds("a.x > b.x", noisy));  // the means say so...
  CHECK_FALSE(holds("diff_ci95(a.x, b.x) > 0", noisy));  // ...the interval does not
  CHECK_FALSE(holds("diff_ci95(a.x, b.x) < 0", noisy));
  CHECK(holds("welch_p(a.x, b.x) < 0.001 and cohen_d(a.x, b.x) > 2", clear));
  CHECK(holds("welch_p(a.x, b.x) > 0.05", noisy));
  // One value per figure (no seeds): statistics are NaN, so no comparison of them holds.
  const Check check = parse_check("diff_ci95(a.x, b.x) > 0 or welch_p(a.x, b.x) < 1", kWhere);
  CHECK_FALSE(check.holds([](const FigureRef& f) { return f.arm == "a" ? 1.0 : 0.0; }));
}

TEST_CASE("check: the pairs a check compares, each once", "[study][check][statistics]") {
  const Check check =
      parse_check("a.x > b.x and diff_ci95(a.x, b.x) > 0 and c.y < 1 and welch_p(c.y, d.y) < 0.05",
                  kWhere);
  REQUIRE(check.pairs().size() == 2);
  CHECK(check.pairs()[0].first.str() == "a.x");
  CHECK(check.pairs()[0].second.str() == "b.x");
  CHECK(check.pairs()[1].first.str() == "c.y");
  CHECK(check.pairs()[1].second.str() == "d.y");
}

TEST_CASE("check: statistics misused are refused with the column", "[study][check][statistics]") {
  CHECK_THAT(error_of("diff_ci95(a.x, b.x)"), Catch::Contains("is an interval: compare it"));
  CHECK_THAT(error_of("diff_ci95(a.x, b.x) + 1 > 0"), Catch::Contains("cannot take diff_ci95"));
  CHECK_THAT(error_of("diff_ci95(a.x, b.x) == 0"), Catch::Contains("not =="));
  CHECK_THAT(error_of("diff_ci95(a.x, b.x) > diff_ci95(c.x, d.x)"),
             Catch::Contains("two intervals cannot be compared"));
  CHECK_THAT(error_of("median(a.x, b.x) > 0"),
             Catch::Contains("column 1") && Catch::Contains("unknown function 'median'"));
  CHECK_THAT(error_of("welch_p(a.x) < 0.05"), Catch::Contains("expected ','"));
  CHECK_THAT(error_of("welch_p(a.x, 3) < 0.05"), Catch::Contains("takes two arm.metric figures"));
  CHECK_THAT(error_of("welch_p(a.x, b.x) and a.x > 0"), Catch::Contains("needs a condition"));
}
