// ablate/nn.hpp: gathering a shuffled batch from a dataset's rows.
#include <cstring>
#include <string>

#include "ablate/error.hpp"
#include "ablate/nn.hpp"
#include "nn/parallel.hpp"

namespace ablate::nn {

void gather_rows(const ConstMatrixRef& source, std::span<const std::uint32_t> rows, MatrixRef out) {
  if (out.cols() != source.cols() || out.rows() < static_cast<Eigen::Index>(rows.size()))
    throw Error("gather_rows: " + std::to_string(rows.size()) + " rows of " +
                std::to_string(source.cols()) + " features do not fit a " +
                std::to_string(out.rows()) + "x" + std::to_string(out.cols()) + " batch");
  for (std::uint32_t row : rows)
    if (row >= source.rows())
      throw Error("gather_rows: row " + std::to_string(row) + " is outside the " +
                  std::to_string(source.rows()) + " rows of the source");
  const auto bytes = static_cast<std::size_t>(source.cols()) * sizeof(float);
  parallel_for(rows.size(), 16, [&](std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i)
      std::memcpy(out.row(static_cast<Eigen::Index>(i)).data(), source.row(rows[i]).data(), bytes);
  });
}

}  // namespace ablate::nn
