#include "runs/json.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <set>

#include "ablate/error.hpp"

namespace ablate {
namespace {

void escape_to(std::string& out, std::string_view text) {
  out += '"';
  for (char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20)
          out += fmt::format("\\u{:04x}", static_cast<int>(c));
        else
          out += c;  // UTF-8 passes through unchanged
    }
  }
  out += '"';
}

void append_utf8(std::string& out, std::uint32_t code_point) {
  if (code_point < 0x80) {
    out += static_cast<char>(code_point);
  } else if (code_point < 0x800) {
    out += static_cast<char>(0xC0 | (code_point >> 6));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else if (code_point < 0x10000) {
    out += static_cast<char>(0xE0 | (code_point >> 12));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (code_point >> 18));
    out += static_cast<char>(0x80 | ((code_point >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  }
}

/// Recursive descent over RFC 8259; every error names the byte offset it was found at.
class Parser {
 public:
  Parser(std::string_view text, const std::string& where) : text_(text), where_(where) {}

  Json document() {
    Json value = parse_value(0);
    skip_whitespace();
    if (pos_ != text_.size()) fail("unexpected text after the JSON value");
    return value;
  }

 private:
  // Deep enough for any record we write; bounded so hostile input cannot overflow the stack.
  static constexpr int kMaxDepth = 256;

  [[noreturn]] void fail(const std::string& what) const {
    const std::string message = fmt::format("invalid JSON at offset {}: {}", pos_, what);
    throw Error(where_.empty() ? message : where_ + ": " + message, where_);
  }

  void skip_whitespace() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r'))
      ++pos_;
  }

  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }

  void expect(char c) {
    if (peek() != c) {
      if (pos_ >= text_.size()) fail(fmt::format("expected '{}' but the text ended", c));
      fail(fmt::format("expected '{}'", c));
    }
    ++pos_;
  }

  void expect_word(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) fail("unknown word (expected a value)");
    pos_ += word.size();
  }

  Json parse_value(int depth) {
    if (depth > kMaxDepth) fail("nested deeper than " + std::to_string(kMaxDepth) + " levels");
    skip_whitespace();
    switch (peek()) {
      case '{': return parse_object(depth);
      case '[': return parse_array(depth);
      case '"': return parse_string();
      case 't': expect_word("true"); return true;
      case 'f': expect_word("false"); return false;
      case 'n': expect_word("null"); return nullptr;
      case '\0':
        if (pos_ >= text_.size()) fail("expected a value but the text ended");
        [[fallthrough]];
      default:
        if (peek() == '-' || (peek() >= '0' && peek() <= '9')) return parse_number();
        fail("expected a value");
    }
  }

  Json parse_object(int depth) {
    expect('{');
    Json::Object members;
    std::set<std::string, std::less<>> seen;
    skip_whitespace();
    if (peek() == '}') {
      ++pos_;
      return members;
    }
    for (;;) {
      skip_whitespace();
      const std::size_t key_at = pos_;
      if (peek() != '"') fail("expected a member name in double quotes");
      std::string key = parse_string().as_string();
      if (!seen.insert(key).second) {
        pos_ = key_at;
        fail("duplicate member name \"" + key + "\"");
      }
      skip_whitespace();
      expect(':');
      members.emplace_back(std::move(key), parse_value(depth + 1));
      skip_whitespace();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      expect('}');
      return members;
    }
  }

  Json parse_array(int depth) {
    expect('[');
    Json::Array items;
    skip_whitespace();
    if (peek() == ']') {
      ++pos_;
      return items;
    }
    for (;;) {
      items.push_back(parse_value(depth + 1));
      skip_whitespace();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      expect(']');
      return items;
    }
  }

  std::uint32_t parse_hex4() {
    if (text_.size() - pos_ < 4) fail("\\u needs four hex digits");
    std::uint32_t value = 0;
    const auto [end, error] =
        std::from_chars(text_.data() + pos_, text_.data() + pos_ + 4, value, 16);
    if (error != std::errc() || end != text_.data() + pos_ + 4) fail("\\u needs four hex digits");
    pos_ += 4;
    return value;
  }

  Json parse_string() {
    expect('"');
    std::string out;
    for (;;) {
      if (pos_ >= text_.size()) fail("unterminated string");
      const char c = text_[pos_];
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (static_cast<unsigned char>(c) < 0x20) fail("control character in a string (escape it)");
      if (c != '\\') {
        out += c;
        ++pos_;
        continue;
      }
      ++pos_;
      const char escaped = peek();
      ++pos_;
      switch (escaped) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': out += parse_unicode_escape(); break;
        default: pos_ -= 2; fail("unknown escape in a string");
      }
    }
  }

  /// After "\u": one code unit, or a surrogate pair spelled as two escapes.
  std::string parse_unicode_escape() {
    std::uint32_t code = parse_hex4();
    if (code >= 0xDC00 && code <= 0xDFFF) fail("unpaired low surrogate in \\u escape");
    if (code >= 0xD800 && code <= 0xDBFF) {
      if (text_.substr(pos_, 2) != "\\u") fail("high surrogate not followed by a low one");
      pos_ += 2;
      const std::uint32_t low = parse_hex4();
      if (low < 0xDC00 || low > 0xDFFF) fail("high surrogate not followed by a low one");
      code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
    }
    std::string utf8;
    append_utf8(utf8, code);
    return utf8;
  }

  Json parse_number() {
    const std::size_t start = pos_;
    auto digits = [&] {
      const std::size_t from = pos_;
      while (peek() >= '0' && peek() <= '9') ++pos_;
      return pos_ - from;
    };
    if (peek() == '-') ++pos_;
    if (peek() == '0')
      ++pos_;
    else if (digits() == 0)
      fail("expected a digit");
    if (peek() == '.') {
      ++pos_;
      if (digits() == 0) fail("expected a digit after the decimal point");
    }
    if (peek() == 'e' || peek() == 'E') {
      ++pos_;
      if (peek() == '+' || peek() == '-') ++pos_;
      if (digits() == 0) fail("expected a digit in the exponent");
    }
    double value = 0;
    const auto [end, error] = std::from_chars(text_.data() + start, text_.data() + pos_, value);
    if (error == std::errc::result_out_of_range) {
      pos_ = start;
      fail("number out of range");
    }
    if (error != std::errc() || end != text_.data() + pos_) {
      pos_ = start;
      fail("malformed number");
    }
    return value;
  }

  std::string_view text_;
  const std::string& where_;
  std::size_t pos_ = 0;
};

}  // namespace

Json Json::parse(std::string_view text, const std::string& where) {
  return Parser(text, where).document();
}

std::string Json::dump() const {
  std::string out;
  dump_to(out);
  return out;
}

void Json::dump_to(std::string& out) const {
  if (is_null()) {
    out += "null";
  } else if (is_bool()) {
    out += std::get<bool>(value_) ? "true" : "false";
  } else if (is_number()) {
    const double number = std::get<double>(value_);
    if (std::isfinite(number))
      fmt::format_to(std::back_inserter(out), "{}", number);
    else
      out += "null";
  } else if (is_string()) {
    escape_to(out, std::get<std::string>(value_));
  } else if (is_array()) {
    out += '[';
    const char* separator = "";
    for (const Json& item : std::get<Array>(value_)) {
      out += separator;
      item.dump_to(out);
      separator = ",";
    }
    out += ']';
  } else {
    out += '{';
    const char* separator = "";
    for (const auto& [key, value] : std::get<Object>(value_)) {
      out += separator;
      escape_to(out, key);
      out += ':';
      value.dump_to(out);
      separator = ",";
    }
    out += '}';
  }
}

const char* Json::type_name() const {
  constexpr const char* names[] = {"null",     "a boolean", "a number",
                                   "a string", "an array",  "an object"};
  return names[value_.index()];
}

namespace {
[[noreturn]] void wrong_type(const char* expected, const char* actual) {
  throw Error(fmt::format("expected {} in JSON, found {}", expected, actual));
}
}  // namespace

bool Json::as_bool() const {
  if (!is_bool()) wrong_type("a boolean", type_name());
  return std::get<bool>(value_);
}

double Json::as_number() const {
  if (!is_number()) wrong_type("a number", type_name());
  return std::get<double>(value_);
}

std::int64_t Json::as_integer() const {
  const double number = as_number();
  // 2^63 is exactly representable; anything at or above it does not fit.
  constexpr double limit = 9223372036854775808.0;
  if (number != std::trunc(number) || number >= limit || number < -limit)
    throw Error(fmt::format("expected an integer in JSON, found {}", number));
  return static_cast<std::int64_t>(number);
}

const std::string& Json::as_string() const {
  if (!is_string()) wrong_type("a string", type_name());
  return std::get<std::string>(value_);
}

const Json::Array& Json::as_array() const {
  if (!is_array()) wrong_type("an array", type_name());
  return std::get<Array>(value_);
}

Json::Array& Json::as_array() {
  if (!is_array()) wrong_type("an array", type_name());
  return std::get<Array>(value_);
}

const Json::Object& Json::as_object() const {
  if (!is_object()) wrong_type("an object", type_name());
  return std::get<Object>(value_);
}

Json::Object& Json::as_object() {
  if (!is_object()) wrong_type("an object", type_name());
  return std::get<Object>(value_);
}

Json& Json::operator[](std::string_view key) {
  if (is_null()) value_ = Object{};
  Object& members = as_object();
  for (auto& [name, value] : members)
    if (name == key) return value;
  return members.emplace_back(std::string(key), Json()).second;
}

const Json* Json::find(std::string_view key) const {
  for (const auto& [name, value] : as_object())
    if (name == key) return &value;
  return nullptr;
}

const Json& Json::at(std::string_view key) const {
  const Json* value = find(key);
  if (!value) throw Error(fmt::format("JSON object has no member \"{}\"", key));
  return *value;
}

const Json& Json::at(std::size_t index) const {
  const Array& items = as_array();
  if (index >= items.size())
    throw Error(fmt::format("JSON array index {} out of range (size {})", index, items.size()));
  return items[index];
}

void Json::push_back(Json item) {
  if (is_null()) value_ = Array{};
  as_array().push_back(std::move(item));
}

std::size_t Json::size() const {
  if (is_array()) return std::get<Array>(value_).size();
  if (is_object()) return std::get<Object>(value_).size();
  wrong_type("an array or an object", type_name());
}

}  // namespace ablate
