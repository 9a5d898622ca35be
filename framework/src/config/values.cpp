#include "config/values.hpp"

#include <sstream>

#include "config/location.hpp"
#include "config/suggest.hpp"

namespace ablate {
namespace {

/// The value as the messages write values (double-quoted strings, as to_toml renders them).
std::string node_text(const toml::node& node) {
  if (auto* text = node.as_string()) return to_toml(Value(text->get()));
  if (auto* number = node.as_floating_point()) return to_toml(Value(number->get()));
  if (auto* array = node.as_array()) {
    std::string out = "[";
    for (std::size_t i = 0; i < array->size(); ++i)
      out += (i ? ", " : "") + node_text(*array->get(i));
    return out + "]";
  }
  std::ostringstream out;
  node.visit([&](const auto& concrete) { out << concrete; });
  return out.str();
}

const char* type_word(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::table:
      return "table";
    case toml::node_type::array:
      return "list";
    case toml::node_type::string:
      return "string";
    case toml::node_type::integer:
      return "integer";
    case toml::node_type::floating_point:
      return "real";
    case toml::node_type::boolean:
      return "boolean";
    case toml::node_type::date:
      return "date";
    case toml::node_type::time:
      return "time";
    case toml::node_type::date_time:
      return "date-time";
    default:
      return "nothing";
  }
}

/// "a real", "an integer", "a list of strings", "true or false".
std::string expectation(ParamType type) {
  if (type == ParamType::boolean) return "true or false";
  const std::string noun = to_string(type);
  return (noun.front() == 'i' ? "an " : "a ") + noun;
}

ParamType element_type(ParamType list) {
  switch (list) {
    case ParamType::integer_list:
      return ParamType::integer;
    case ParamType::real_list:
      return ParamType::real;
    case ParamType::string_list:
      return ParamType::string;
    default:
      return list;
  }
}

[[noreturn]] void wrong_type(const toml::node& node, ParamType expected, const std::string& key) {
  throw ConfigError(key + ": expected " + expectation(expected) + ", got " + describe_node(node),
                    location_of(node).str());
}

/// Range and choices of one number or string; `shown` is the value as the user wrote it.
void check_scalar(const Value& value, const ParamSpec& spec, const std::string& key,
                  const std::string& shown, const std::string& where) {
  double number = 0;
  if (auto* i = std::get_if<std::int64_t>(&value))
    number = static_cast<double>(*i);
  else if (auto* r = std::get_if<double>(&value))
    number = *r;
  else if (auto* s = std::get_if<std::string>(&value)) {
    if (spec.choices.empty()) return;
    for (const auto& option : spec.choices)
      if (option == *s) return;
    const std::string hint = did_you_mean(*s, spec.choices);
    throw ConfigError(key + " = " + shown + " is not " + spec.describe_allowed() +
                          (hint.empty() ? "" : ";" + hint),
                      where);
  } else {
    return;
  }
  // Written so that NaN, which compares false with everything, is out of every range.
  if (!(number >= spec.min && number <= spec.max))
    throw ConfigError(key + " = " + shown + " is out of range: " + spec.describe_allowed(), where);
}

Value read_scalar(const toml::node& node, const ParamSpec& spec, const std::string& key) {
  Value value;
  switch (spec.type) {
    case ParamType::boolean:
      if (!node.is_boolean()) wrong_type(node, spec.type, key);
      value = node.as_boolean()->get();
      break;
    case ParamType::integer:
      if (!node.is_integer()) wrong_type(node, spec.type, key);
      value = node.as_integer()->get();
      break;
    case ParamType::real:
      if (node.is_integer())
        value = static_cast<double>(node.as_integer()->get());
      else if (node.is_floating_point())
        value = node.as_floating_point()->get();
      else
        wrong_type(node, spec.type, key);
      break;
    case ParamType::string:
      if (!node.is_string()) wrong_type(node, spec.type, key);
      value = node.as_string()->get();
      break;
    default:
      throw Error("read_scalar called for a list parameter");
  }
  check_scalar(value, spec, key, node_text(node), location_of(node).str());
  return value;
}

template <class T>
std::vector<T> read_list(const toml::array& array, const ParamSpec& element_spec,
                         const std::string& key) {
  std::vector<T> items;
  items.reserve(array.size());
  for (std::size_t i = 0; i < array.size(); ++i)
    items.push_back(
        std::get<T>(read_scalar(array[i], element_spec, key + "[" + std::to_string(i) + "]")));
  return items;
}

bool holds(const Value& value, ParamType type) {
  switch (type) {
    case ParamType::boolean:
      return std::holds_alternative<bool>(value);
    case ParamType::integer:
      return std::holds_alternative<std::int64_t>(value);
    case ParamType::real:
      return std::holds_alternative<double>(value);
    case ParamType::string:
      return std::holds_alternative<std::string>(value);
    case ParamType::integer_list:
      return std::holds_alternative<std::vector<std::int64_t>>(value);
    case ParamType::real_list:
      return std::holds_alternative<std::vector<double>>(value);
    case ParamType::string_list:
      return std::holds_alternative<std::vector<std::string>>(value);
  }
  return false;
}

}  // namespace

void check_default(const ParamSpec& spec, const std::string& owner) {
  if (!spec.default_value) return;
  const std::string problem = owner + " declares parameter '" + spec.name + "' with default " +
                              to_toml(*spec.default_value);
  if (!holds(*spec.default_value, spec.type))
    throw Error(problem + ", which is not " + expectation(spec.type));
  try {
    check_allowed(*spec.default_value, spec, spec.name, owner);
  } catch (const ConfigError&) {
    throw Error(problem + ", outside its own range: " + spec.describe_allowed());
  }
}

std::string describe_node(const toml::node& node) {
  if (node.is_table()) return "a table";
  return std::string(type_word(node)) + " " + node_text(node);
}

Value read_value(const toml::node& node, const ParamSpec& spec, const std::string& key) {
  const ParamType scalar = element_type(spec.type);
  if (scalar == spec.type) return read_scalar(node, spec, key);
  const toml::array* array = node.as_array();
  if (!array) wrong_type(node, spec.type, key);
  ParamSpec element_spec = spec;
  element_spec.type = scalar;
  switch (spec.type) {
    case ParamType::integer_list:
      return read_list<std::int64_t>(*array, element_spec, key);
    case ParamType::real_list:
      return read_list<double>(*array, element_spec, key);
    default:
      return read_list<std::string>(*array, element_spec, key);
  }
}

void check_allowed(const Value& value, const ParamSpec& spec, const std::string& key,
                   const std::string& where) {
  ParamSpec element_spec = spec;
  element_spec.type = element_type(spec.type);
  auto check_each = [&](const auto& items) {
    for (std::size_t i = 0; i < items.size(); ++i)
      check_scalar(Value(items[i]), element_spec, key + "[" + std::to_string(i) + "]",
                   to_toml(Value(items[i])), where);
  };
  if (auto* ints = std::get_if<std::vector<std::int64_t>>(&value))
    check_each(*ints);
  else if (auto* reals = std::get_if<std::vector<double>>(&value))
    check_each(*reals);
  else if (auto* strings = std::get_if<std::vector<std::string>>(&value))
    check_each(*strings);
  else
    check_scalar(value, spec, key, to_toml(value), where);
}

}  // namespace ablate
