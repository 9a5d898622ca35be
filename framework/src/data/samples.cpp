// ablate/data.hpp: memory for samples.
#include "ablate/data.hpp"
#include "util/huge_pages.hpp"

namespace ablate {

void resize_samples(Matrix& x, Eigen::Index rows, Eigen::Index cols) {
  x.resize(rows, cols);
  advise_huge_pages(x.data(), static_cast<std::size_t>(x.size()) * sizeof(float));
}

}  // namespace ablate
