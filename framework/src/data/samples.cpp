// ablate/data.hpp: memory for samples.
#include <sys/mman.h>

#include <cstdint>

#include "ablate/data.hpp"

namespace ablate {
namespace {

constexpr std::uintptr_t kHugePage = std::uintptr_t{2} << 20;

}  // namespace

void resize_samples(Matrix& x, Eigen::Index rows, Eigen::Index cols) {
  x.resize(rows, cols);
  // A hint for the pages not touched yet, i.e. all of a freshly allocated buffer: the 2 MiB
  // blocks inside it. It fails only where the kernel has no huge pages, which changes nothing.
  const auto start = reinterpret_cast<std::uintptr_t>(x.data());
  const std::uintptr_t first = (start + kHugePage - 1) & ~(kHugePage - 1);
  const std::uintptr_t end = (start + static_cast<std::uintptr_t>(x.size()) * sizeof(float)) &
                             ~(kHugePage - 1);
  if (end > first)
    madvise(reinterpret_cast<void*>(first), end - first, MADV_HUGEPAGE);  // NOLINT: a hint
}

}  // namespace ablate
