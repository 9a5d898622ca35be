#pragma once
// A small JSON value for the run records (manifest.json, summary.json, metrics.jsonl rows,
// sweep manifests) and safetensors headers. Numbers are doubles (integers are exact up to 2^53);
// objects keep their keys in insertion order so written files read in a stable, meaningful order.
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace ablate {

class Json {
 public:
  using Array = std::vector<Json>;
  using Object = std::vector<std::pair<std::string, Json>>;

  Json() = default;  // null
  Json(std::nullptr_t) {}
  Json(bool value) : value_(value) {}
  template <typename Number>
  requires(std::integral<Number> || std::floating_point<Number>) &&
      (!std::same_as<Number, bool>)Json(Number value) : value_(static_cast<double>(value)) {}
  Json(const char* text) : value_(std::string(text)) {}
  Json(std::string_view text) : value_(std::string(text)) {}
  Json(std::string text) : value_(std::move(text)) {}
  Json(Array items) : value_(std::move(items)) {}
  Json(Object members) : value_(std::move(members)) {}

  static Json array() { return Json(Array{}); }
  static Json object() { return Json(Object{}); }

  /// Parses one JSON text (RFC 8259; surrounding whitespace allowed). Throws ablate::Error saying
  /// what was wrong and at which byte offset; `where` (a file name) is put in front when given.
  static Json parse(std::string_view text, const std::string& where = {});

  /// Compact, one line: doubles in the shortest form that reads back to the same value,
  /// NaN and infinities as null (JSON has no spelling for them), strings escaped.
  std::string dump() const;

  bool is_null() const { return std::holds_alternative<std::nullptr_t>(value_); }
  bool is_bool() const { return std::holds_alternative<bool>(value_); }
  bool is_number() const { return std::holds_alternative<double>(value_); }
  bool is_string() const { return std::holds_alternative<std::string>(value_); }
  bool is_array() const { return std::holds_alternative<Array>(value_); }
  bool is_object() const { return std::holds_alternative<Object>(value_); }

  // Typed access; each throws ablate::Error naming the expected and the actual type.
  bool as_bool() const;
  double as_number() const;
  /// The number as an integer; an Error if it has a fractional part or is out of range.
  std::int64_t as_integer() const;
  const std::string& as_string() const;
  const Array& as_array() const;
  Array& as_array();
  const Object& as_object() const;
  Object& as_object();

  /// Object member, added as null when missing; a null value becomes an empty object first.
  Json& operator[](std::string_view key);
  /// Object member; an Error naming the key when missing.
  const Json& at(std::string_view key) const;
  /// Object member or nullptr.
  const Json* find(std::string_view key) const;
  bool contains(std::string_view key) const { return find(key) != nullptr; }
  /// Array element; an Error when out of range.
  const Json& at(std::size_t index) const;
  /// Appends to an array; a null value becomes an empty array first.
  void push_back(Json item);
  /// Elements of an array or members of an object.
  std::size_t size() const;

  bool operator==(const Json& other) const = default;

 private:
  void dump_to(std::string& out) const;
  const char* type_name() const;

  std::variant<std::nullptr_t, bool, double, std::string, Array, Object> value_;
};

}  // namespace ablate
