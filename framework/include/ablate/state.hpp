#pragma once
// Named tensors: what a checkpoint holds (parameters, optimizer moments, plugin state).
// Written as safetensors, so PyTorch and numpy read checkpoints as they are.
#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "ablate/tensor.hpp"
#include "ablate/error.hpp"

namespace ablate {

enum class DType { f32, f64, i64, u8 };
const char* to_string(DType dtype);  // safetensors spelling: F32, F64, I64, U8

struct StoredTensor {
  DType dtype = DType::f32;
  std::vector<std::int64_t> shape;
  std::vector<std::byte> bytes;
};

class ABLATE_API StateStore {
 public:
  void put(const std::string& name, const ConstMatrixRef& m);  // F32, [rows, cols]
  void put(const std::string& name, std::span<const float> v);
  void put(const std::string& name, std::span<const double> v);
  void put(const std::string& name, std::span<const std::int64_t> v);
  void put(const std::string& name, std::span<const std::uint64_t> v);  // stored as I64 bits
  void put_text(const std::string& name, const std::string& text);       // U8

  bool has(const std::string& name) const { return tensors_.count(name) != 0; }
  /// Copies into an existing matrix of the same shape (no reallocation).
  void get(const std::string& name, MatrixRef out) const;
  Matrix matrix(const std::string& name) const;
  std::vector<float> floats(const std::string& name) const;
  std::vector<double> reals(const std::string& name) const;
  std::vector<std::int64_t> integers(const std::string& name) const;
  std::vector<std::uint64_t> words(const std::string& name) const;
  std::string text(const std::string& name) const;

  const std::map<std::string, StoredTensor>& tensors() const { return tensors_; }
  std::map<std::string, StoredTensor>& tensors() { return tensors_; }

 private:
  const StoredTensor& at(const std::string& name, DType dtype) const;
  std::map<std::string, StoredTensor> tensors_;
};

}  // namespace ablate
