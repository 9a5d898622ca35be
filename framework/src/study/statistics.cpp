#include "study/statistics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/math/distributions/students_t.hpp>
#include <cmath>
#include <limits>

namespace ablate::study {
namespace {

struct Moments {
  double mean = 0, var = 0;  // var: the sample variance (n - 1)
};

Moments moments(const std::vector<double>& x) {
  Moments m;
  for (double v : x) m.mean += v;
  m.mean /= static_cast<double>(x.size());
  for (double v : x) m.var += (v - m.mean) * (v - m.mean);
  m.var /= static_cast<double>(x.size() - 1);
  return m;
}

}  // namespace

Comparison compare_means(const std::vector<double>& a, const std::vector<double>& b) {
  constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  Comparison c{nan, nan, nan, nan, nan, nan, a.size(), b.size()};
  if (a.size() < 2 || b.size() < 2) return c;
  // A diverged run's inf (or a NaN) has no mean to compare: undefined, as for too few seeds.
  const auto finite = [](const std::vector<double>& x) {
    return std::all_of(x.begin(), x.end(), [](double v) { return std::isfinite(v); });
  };
  if (!finite(a) || !finite(b)) return c;
  const Moments ma = moments(a), mb = moments(b);
  const double na = static_cast<double>(a.size()), nb = static_cast<double>(b.size());
  c.diff = ma.mean - mb.mean;
  const double pooled = std::sqrt(((na - 1) * ma.var + (nb - 1) * mb.var) / (na + nb - 2));
  c.cohen_d = pooled > 0 ? c.diff / pooled : (c.diff == 0 ? 0.0 : std::copysign(INFINITY, c.diff));
  const double va = ma.var / na, vb = mb.var / nb, se = std::sqrt(va + vb);
  if (se == 0) {  // no spread on either side: the difference is what it is
    c.lo = c.hi = c.diff;
    c.p = c.diff == 0 ? 1.0 : 0.0;
    c.df = na + nb - 2;
    return c;
  }
  c.df = (va + vb) * (va + vb) / (va * va / (na - 1) + vb * vb / (nb - 1));
  const boost::math::students_t t(c.df);
  const double half = boost::math::quantile(boost::math::complement(t, 0.025)) * se;
  c.lo = c.diff - half;
  c.hi = c.diff + half;
  c.p = 2 * boost::math::cdf(boost::math::complement(t, std::abs(c.diff) / se));
  return c;
}

namespace {
std::string p_text(double p) {
  return p < 0.001 ? fmt::format("{:.1e}", p) : fmt::format("{:.3f}", p);
}
}  // namespace

std::string Comparison::str() const {
  if (std::isnan(diff)) return "-";
  return fmt::format("{:+.4f} [{:.4f}, {:.4f}] 95% CI, Welch p = {}, d = {:.2f}", diff, lo, hi,
                     p_text(p), cohen_d);
}

std::string Comparison::short_str() const {
  if (std::isnan(diff)) return "-";
  return fmt::format("{:+.4f} [{:.4f}, {:.4f}] p = {}", diff, lo, hi, p_text(p));
}

}  // namespace ablate::study
