// StateStore (ablate/state.hpp): named tensors kept as raw little-endian bytes, exactly as
// safetensors lays them out, so writing a checkpoint is a copy and reading one needs no parsing.
#include <bit>
#include <cstring>
#include <numeric>

#include <fmt/format.h>

#include "ablate/state.hpp"
#include "runs/dtype.hpp"

namespace ablate {

static_assert(std::endian::native == std::endian::little,
              "StateStore keeps tensors as raw bytes, which safetensors defines as little-endian");

namespace {

constexpr DType kAllDTypes[] = {DType::f32, DType::f64, DType::i64, DType::u8};

template <typename T>
StoredTensor stored(DType dtype, std::span<const T> values) {
  StoredTensor tensor;
  tensor.dtype = dtype;
  tensor.shape = {static_cast<std::int64_t>(values.size())};
  tensor.bytes.resize(values.size_bytes());
  if (!values.empty()) std::memcpy(tensor.bytes.data(), values.data(), values.size_bytes());
  return tensor;
}

template <typename T>
std::vector<T> copied(const StoredTensor& tensor) {
  std::vector<T> values(tensor.bytes.size() / sizeof(T));
  if (!values.empty()) std::memcpy(values.data(), tensor.bytes.data(), tensor.bytes.size());
  return values;
}

std::string shape_text(const std::vector<std::int64_t>& shape) {
  return fmt::format("[{}]", fmt::join(shape, ", "));
}

}  // namespace

const char* to_string(DType dtype) {
  switch (dtype) {
    case DType::f32: return "F32";
    case DType::f64: return "F64";
    case DType::i64: return "I64";
    case DType::u8: return "U8";
  }
  return "?";
}

std::size_t element_size(DType dtype) {
  switch (dtype) {
    case DType::f32: return 4;
    case DType::f64: return 8;
    case DType::i64: return 8;
    case DType::u8: return 1;
  }
  return 0;
}

std::optional<DType> parse_dtype(std::string_view text) {
  for (DType dtype : kAllDTypes)
    if (text == to_string(dtype)) return dtype;
  return std::nullopt;
}

void StateStore::put(const std::string& name, const ConstMatrixRef& m) {
  StoredTensor tensor;
  tensor.dtype = DType::f32;
  tensor.shape = {m.rows(), m.cols()};
  const std::size_t row_bytes = static_cast<std::size_t>(m.cols()) * sizeof(float);
  tensor.bytes.resize(static_cast<std::size_t>(m.rows()) * row_bytes);
  // Row by row: a Ref may view rows of a wider buffer (outer stride > cols).
  for (Eigen::Index r = 0; r < m.rows() && row_bytes > 0; ++r)
    std::memcpy(tensor.bytes.data() + static_cast<std::size_t>(r) * row_bytes, m.row(r).data(),
                row_bytes);
  tensors_[name] = std::move(tensor);
}

void StateStore::put(const std::string& name, std::span<const float> v) {
  tensors_[name] = stored(DType::f32, v);
}

void StateStore::put(const std::string& name, std::span<const double> v) {
  tensors_[name] = stored(DType::f64, v);
}

void StateStore::put(const std::string& name, std::span<const std::int64_t> v) {
  tensors_[name] = stored(DType::i64, v);
}

void StateStore::put(const std::string& name, std::span<const std::uint64_t> v) {
  tensors_[name] = stored(DType::i64, v);  // same bits; words() reads them back unchanged
}

void StateStore::put_text(const std::string& name, const std::string& text) {
  tensors_[name] = stored(DType::u8, std::span<const char>(text.data(), text.size()));
}

const StoredTensor& StateStore::at(const std::string& name, DType dtype) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end()) throw Error("the saved state has no tensor '" + name + "'");
  const StoredTensor& tensor = it->second;
  if (tensor.dtype != dtype)
    throw Error(fmt::format("tensor '{}' is {}, expected {}", name, to_string(tensor.dtype),
                            to_string(dtype)));
  const auto elements = std::accumulate(tensor.shape.begin(), tensor.shape.end(), std::int64_t{1},
                                        std::multiplies<>());
  if (tensor.bytes.size() != static_cast<std::size_t>(elements) * element_size(dtype))
    throw Error(fmt::format("tensor '{}' holds {} bytes, but its shape {} needs {}", name,
                            tensor.bytes.size(), shape_text(tensor.shape),
                            static_cast<std::size_t>(elements) * element_size(dtype)));
  return tensor;
}

void StateStore::get(const std::string& name, MatrixRef out) const {
  const StoredTensor& tensor = at(name, DType::f32);
  const std::vector<std::int64_t> wanted = {out.rows(), out.cols()};
  // A 1-D tensor (PyTorch's shape for a bias) also fits a single-row or single-column matrix.
  const bool fits =
      tensor.shape == wanted || (tensor.shape.size() == 1 && (out.rows() == 1 || out.cols() == 1) &&
                                 tensor.shape[0] == out.size());
  if (!fits)
    throw Error(fmt::format("tensor '{}' has shape {}, but the matrix it loads into is {}", name,
                            shape_text(tensor.shape), shape_text(wanted)));
  if (out.size() == 0) return;
  out = Eigen::Map<const Matrix>(reinterpret_cast<const float*>(tensor.bytes.data()), out.rows(),
                                 out.cols());
}

Matrix StateStore::matrix(const std::string& name) const {
  const StoredTensor& tensor = at(name, DType::f32);
  if (tensor.shape.size() != 2)
    throw Error(
        fmt::format("tensor '{}' has shape {}, not a matrix", name, shape_text(tensor.shape)));
  Matrix m(tensor.shape[0], tensor.shape[1]);
  get(name, m);
  return m;
}

std::vector<float> StateStore::floats(const std::string& name) const {
  return copied<float>(at(name, DType::f32));
}

std::vector<double> StateStore::reals(const std::string& name) const {
  return copied<double>(at(name, DType::f64));
}

std::vector<std::int64_t> StateStore::integers(const std::string& name) const {
  return copied<std::int64_t>(at(name, DType::i64));
}

std::vector<std::uint64_t> StateStore::words(const std::string& name) const {
  return copied<std::uint64_t>(at(name, DType::i64));
}

std::string StateStore::text(const std::string& name) const {
  const StoredTensor& tensor = at(name, DType::u8);
  return std::string(reinterpret_cast<const char*>(tensor.bytes.data()), tensor.bytes.size());
}

}  // namespace ablate
