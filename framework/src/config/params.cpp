// ablate/params.hpp: value rendering, allowed-value descriptions and the declaration builders.
#include "ablate/params.hpp"

#include <charconv>
#include <cstdio>

#include "config/suggest.hpp"

namespace ablate {
namespace {

/// The shortest text that reads back as the same double ("0.1", "1e-08", "100").
std::string shortest(double number) {
  char buffer[64];
  auto result = std::to_chars(buffer, buffer + sizeof buffer, number);
  return std::string(buffer, result.ptr);
}

std::string real_to_toml(double number) {
  std::string out = shortest(number);
  // TOML needs a float to look like one: "100" would read back as an integer.
  if (out.find_first_of(".eEn") == std::string::npos) out += ".0";
  return out;
}

std::string string_to_toml(const std::string& text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
          out += escaped;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

template <class T, class Render>
std::string list_to_toml(const std::vector<T>& items, Render render) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + render(items[i]);
  return out + "]";
}

// Exclusive bounds are declared as the next double past the bound (std::nextafter(0.0, 1.0)
// for "> 0"). Such a value prints with many digits while its neighbour toward the bound is
// short, which is how they are told apart from a plain inclusive bound.
bool is_exclusive_bound(double bound, double toward) {
  const double neighbour = std::nextafter(bound, toward);
  return shortest(neighbour).size() < shortest(bound).size();
}

std::string bound_text(double bound, ParamType type) {
  if (type == ParamType::integer || type == ParamType::integer_list)
    return std::to_string(static_cast<std::int64_t>(bound));
  return shortest(bound);
}

std::string range_text(const ParamSpec& spec) {
  const bool integral = spec.type == ParamType::integer || spec.type == ParamType::integer_list;
  const bool has_min = std::isfinite(spec.min), has_max = std::isfinite(spec.max);
  const bool open_min = has_min && !integral && is_exclusive_bound(spec.min, -kInf);
  const bool open_max = has_max && !integral && is_exclusive_bound(spec.max, kInf);
  const double min = open_min ? std::nextafter(spec.min, -kInf) : spec.min;
  const double max = open_max ? std::nextafter(spec.max, kInf) : spec.max;
  if (has_min && has_max)
    return std::string(" in ") + (open_min ? "(" : "[") + bound_text(min, spec.type) + ", " +
           bound_text(max, spec.type) + (open_max ? ")" : "]");
  if (has_min) return (open_min ? " > " : " >= ") + bound_text(min, spec.type);
  if (has_max) return (open_max ? " < " : " <= ") + bound_text(max, spec.type);
  return "";
}

ParamSpec make(std::string name, ParamType type, std::optional<Value> default_value, double min,
               double max, std::string doc) {
  ParamSpec spec;
  spec.name = std::move(name);
  spec.type = type;
  spec.default_value = std::move(default_value);
  spec.min = min;
  spec.max = max;
  spec.doc = std::move(doc);
  return spec;
}

template <class T>
std::optional<Value> as_value(std::optional<T> value) {
  if (!value) return std::nullopt;
  return Value(std::move(*value));
}

}  // namespace

const char* to_string(ParamType type) {
  switch (type) {
    case ParamType::boolean:
      return "boolean";
    case ParamType::integer:
      return "integer";
    case ParamType::real:
      return "real";
    case ParamType::string:
      return "string";
    case ParamType::integer_list:
      return "list of integers";
    case ParamType::real_list:
      return "list of reals";
    case ParamType::string_list:
      return "list of strings";
  }
  return "unknown type";
}

std::string to_toml(const Value& value) {
  struct Render {
    std::string operator()(bool flag) const { return flag ? "true" : "false"; }
    std::string operator()(std::int64_t number) const { return std::to_string(number); }
    std::string operator()(double number) const { return real_to_toml(number); }
    std::string operator()(const std::string& text) const { return string_to_toml(text); }
    std::string operator()(const std::vector<std::int64_t>& items) const {
      return list_to_toml(items, [](std::int64_t n) { return std::to_string(n); });
    }
    std::string operator()(const std::vector<double>& items) const {
      return list_to_toml(items, real_to_toml);
    }
    std::string operator()(const std::vector<std::string>& items) const {
      return list_to_toml(items, string_to_toml);
    }
  };
  return std::visit(Render{}, value);
}

std::string ParamSpec::describe_allowed() const {
  if (type == ParamType::boolean) return "true or false";
  if (!choices.empty()) {
    const std::string options = "one of: " + join(choices);
    return type == ParamType::string_list ? "list of strings, each " + options : options;
  }
  const std::string range = range_text(*this);
  if (range.empty()) return to_string(type);
  if (type == ParamType::integer_list || type == ParamType::real_list)
    return std::string(to_string(type)) + ", each" + range;
  return to_string(type) + range;
}

ParamSpec flag(std::string name, bool default_value, std::string doc) {
  return make(std::move(name), ParamType::boolean, Value(default_value), -kInf, kInf,
              std::move(doc));
}

ParamSpec integer(std::string name, std::optional<std::int64_t> default_value, double min,
                  double max, std::string doc) {
  return make(std::move(name), ParamType::integer, as_value(default_value), min, max,
              std::move(doc));
}

ParamSpec real(std::string name, std::optional<double> default_value, double min, double max,
               std::string doc) {
  return make(std::move(name), ParamType::real, as_value(default_value), min, max, std::move(doc));
}

ParamSpec text(std::string name, std::optional<std::string> default_value, std::string doc) {
  return make(std::move(name), ParamType::string, as_value(std::move(default_value)), -kInf, kInf,
              std::move(doc));
}

ParamSpec choice(std::string name, std::string default_value, std::vector<std::string> choices,
                 std::string doc) {
  ParamSpec spec = make(std::move(name), ParamType::string, Value(std::move(default_value)), -kInf,
                        kInf, std::move(doc));
  spec.choices = std::move(choices);
  return spec;
}

ParamSpec integers(std::string name, std::optional<std::vector<std::int64_t>> default_value,
                   double min, double max, std::string doc) {
  return make(std::move(name), ParamType::integer_list, as_value(std::move(default_value)), min,
              max, std::move(doc));
}

ParamSpec reals(std::string name, std::optional<std::vector<double>> default_value, double min,
                double max, std::string doc) {
  return make(std::move(name), ParamType::real_list, as_value(std::move(default_value)), min, max,
              std::move(doc));
}

ParamSpec texts(std::string name, std::optional<std::vector<std::string>> default_value,
                std::string doc) {
  return make(std::move(name), ParamType::string_list, as_value(std::move(default_value)), -kInf,
              kInf, std::move(doc));
}

}  // namespace ablate
