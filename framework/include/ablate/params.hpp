#pragma once
// Plugin parameters: what a plugin declares (ParamSpec) and what it receives (Params).
// The host validates every value against the declaration before a plugin sees it, so a
// plugin reads typed values and never parses TOML.
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "ablate/error.hpp"

namespace ablate {

enum class ParamType { boolean, integer, real, string, integer_list, real_list, string_list };

const char* to_string(ParamType type);

using Value = std::variant<bool, std::int64_t, double, std::string, std::vector<std::int64_t>,
                           std::vector<double>, std::vector<std::string>>;

/// Renders a value as TOML would write it: 3, 0.5, "relu", [256, 256].
std::string to_toml(const Value& value);

/// One declared parameter. Numeric bounds apply to a number and to each list element.
struct ParamSpec {
  std::string name;
  ParamType type = ParamType::real;
  std::optional<Value> default_value;  // none: the parameter is required
  double min = -std::numeric_limits<double>::infinity();
  double max = std::numeric_limits<double>::infinity();
  std::vector<std::string> choices;  // strings only; empty: any string
  std::string doc;

  /// "integer in [1, 100]", "one of: relu, tanh, gelu", "list of reals".
  std::string describe_allowed() const;
};

// Builders that read as the declaration table they produce.
ParamSpec flag(std::string name, bool default_value, std::string doc);
ParamSpec integer(std::string name, std::optional<std::int64_t> default_value, double min,
                  double max, std::string doc);
ParamSpec real(std::string name, std::optional<double> default_value, double min, double max,
               std::string doc);
ParamSpec text(std::string name, std::optional<std::string> default_value, std::string doc);
ParamSpec choice(std::string name, std::string default_value, std::vector<std::string> choices,
                 std::string doc);
ParamSpec integers(std::string name, std::optional<std::vector<std::int64_t>> default_value,
                   double min, double max, std::string doc);
ParamSpec reals(std::string name, std::optional<std::vector<double>> default_value, double min,
                double max, std::string doc);
ParamSpec texts(std::string name, std::optional<std::vector<std::string>> default_value,
                std::string doc);

inline constexpr double kInf = std::numeric_limits<double>::infinity();

/// Validated values by name. Getters throw ablate::Error on a name that was not declared
/// (a plugin bug, not a user error).
class Params {
 public:
  Params() = default;
  explicit Params(std::map<std::string, Value> values) : values_(std::move(values)) {}

  bool boolean(const std::string& name) const { return get<bool>(name); }
  std::int64_t integer(const std::string& name) const { return get<std::int64_t>(name); }
  double real(const std::string& name) const { return get<double>(name); }
  const std::string& string(const std::string& name) const { return get<std::string>(name); }
  const std::vector<std::int64_t>& integers(const std::string& name) const {
    return get<std::vector<std::int64_t>>(name);
  }
  const std::vector<double>& reals(const std::string& name) const {
    return get<std::vector<double>>(name);
  }
  const std::vector<std::string>& strings(const std::string& name) const {
    return get<std::vector<std::string>>(name);
  }

  bool has(const std::string& name) const { return values_.count(name) != 0; }
  const std::map<std::string, Value>& values() const { return values_; }
  void set(const std::string& name, Value value) { values_[name] = std::move(value); }

 private:
  template <class T>
  const T& get(const std::string& name) const {
    auto it = values_.find(name);
    if (it == values_.end()) throw Error("parameter '" + name + "' was not declared");
    if (auto* v = std::get_if<T>(&it->second)) return *v;
    throw Error("parameter '" + name + "' read with the wrong type");
  }
  std::map<std::string, Value> values_;
};

}  // namespace ablate
