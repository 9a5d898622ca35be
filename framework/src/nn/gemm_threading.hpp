#pragma once
// Who threads gemm() (ablate/tensor.hpp) at threads() > 1. Internal: for the benchmark, which
// measures both, and for tests.
#include <cstddef>

#include "nn/parallel.hpp"

namespace ablate {

enum class GemmThreading {
  /// Default. gemm() cuts the product into threads() blocks of a layer's units (see
  /// tensor.cpp) and runs one single-threaded sgemm per block on the host's pool
  /// (nn/parallel.hpp): blocks of C's rows or columns, or, in dy W, of the inner dimension,
  /// whose partial products are then summed in block order. The result depends only on the
  /// shapes and the thread count. OpenBLAS itself runs on one thread. Products under ~3 us
  /// of work are not cut.
  host,
  /// One sgemm call per gemm(), threaded by OpenBLAS.
  blas,
};

/// gemm() cuts a side of C across threads only if each gets at least this many of its rows or
/// columns; the optimizer cuts a layer's rows by the same rule, so each thread updates the rows
/// whose gradient it computed.
inline constexpr std::size_t kMinCutSide = 16;

/// Calls body(begin, end) for each block of a layer's `units` that gemm() would give one thread
/// of a product of `macs` multiply-adds (its cut of C's rows or columns of units), each on that
/// thread; once with [0, units), on the calling thread, when gemm() would not cut the units.
/// A gemm() inside a block's body runs whole on that thread, so a layer that computes its
/// product block by block this way (with passes of its own over each block while it is in
/// cache) makes the very sgemm calls a plain gemm() would make.
void for_each_unit_block(std::size_t units, double macs, RangeFn body);

/// Takes effect at the next set_threads() (which it calls again if the thread count is set).
void set_gemm_threading(GemmThreading threading);
GemmThreading gemm_threading();

}  // namespace ablate
