// ablate/nn.hpp: softmax, softmax cross-entropy and argmax, row by row.
#include <cmath>
#include <string>

#include "ablate/error.hpp"
#include "ablate/nn.hpp"

namespace ablate::nn {
namespace {

void check_same_shape(const char* what, const ConstMatrixRef& a, Eigen::Index rows,
                      Eigen::Index cols) {
  if (a.rows() != rows || a.cols() != cols)
    throw Error(std::string(what) + " must have the logits' shape " + std::to_string(rows) + "x" +
                std::to_string(cols) + ", got " + std::to_string(a.rows()) + "x" +
                std::to_string(a.cols()));
}

/// probs = softmax of each row; returns log(sum exp(z - max)) + max of row r through `log_norm`
/// when asked (the log-partition, for a loss that must not take log of an underflowed p).
template <class LogNorm>
void softmax_rows(const ConstMatrixRef& logits, MatrixRef probs, LogNorm&& log_norm) {
  for (Eigen::Index r = 0; r < logits.rows(); ++r) {
    const float top = logits.row(r).maxCoeff();
    probs.row(r) = (logits.row(r).array() - top).exp().matrix();
    const float sum = probs.row(r).sum();
    probs.row(r) *= 1.0f / sum;
    log_norm(r, static_cast<double>(top) + std::log(static_cast<double>(sum)));
  }
}

}  // namespace

void softmax(const ConstMatrixRef& logits, MatrixRef probs) {
  check_same_shape("probs", probs, logits.rows(), logits.cols());
  softmax_rows(logits, probs, [](Eigen::Index, double) {});
}

double softmax_cross_entropy(const ConstMatrixRef& logits, std::span<const std::int32_t> labels,
                             MatrixRef probs, MatrixRef dlogits) {
  const Eigen::Index rows = logits.rows(), classes = logits.cols();
  check_same_shape("probs", probs, rows, classes);
  check_same_shape("dlogits", dlogits, rows, classes);
  if (static_cast<Eigen::Index>(labels.size()) != rows)
    throw Error("softmax_cross_entropy: " + std::to_string(labels.size()) + " labels for " +
                std::to_string(rows) + " rows of logits");
  if (rows == 0) return 0.0;
  for (Eigen::Index r = 0; r < rows; ++r) {
    const auto label = labels[static_cast<std::size_t>(r)];
    if (label < 0 || label >= classes)
      throw Error("label " + std::to_string(label) + " at row " + std::to_string(r) +
                  " is outside the classes [0, " + std::to_string(classes) + ")");
  }
  // -log p_y = log(sum_j exp z_j) - z_y, summed in double.
  double loss = 0.0;
  softmax_rows(logits, probs, [&](Eigen::Index r, double log_partition) {
    loss += log_partition - logits(r, labels[static_cast<std::size_t>(r)]);
  });
  const float inv_rows = 1.0f / static_cast<float>(rows);
  dlogits = probs * inv_rows;
  for (Eigen::Index r = 0; r < rows; ++r)
    dlogits(r, labels[static_cast<std::size_t>(r)]) -= inv_rows;
  return loss / static_cast<double>(rows);
}

void argmax(const ConstMatrixRef& scores, std::span<std::int32_t> out) {
  if (static_cast<Eigen::Index>(out.size()) != scores.rows())
    throw Error("argmax: " + std::to_string(out.size()) + " outputs for " +
                std::to_string(scores.rows()) + " rows");
  for (Eigen::Index r = 0; r < scores.rows(); ++r) {
    const float* row = scores.row(r).data();
    Eigen::Index best = 0;  // the first maximum, as numpy's argmax
    for (Eigen::Index j = 1; j < scores.cols(); ++j)
      if (row[j] > row[best]) best = j;
    out[static_cast<std::size_t>(r)] = static_cast<std::int32_t>(best);
  }
}

}  // namespace ablate::nn
