#pragma once
// The one exception type the host and the plugins throw for user-facing problems.
// `where` is "file:line:col" or a file path when known; the CLI prints "where: what".
#include <stdexcept>
#include <string>

/// Marks SDK types whose identity (vtable, typeinfo) must be shared between the host and plugins
/// built with hidden visibility.
#define ABLATE_API __attribute__((visibility("default")))

namespace ablate {

class ABLATE_API Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what, std::string where = {})
      : std::runtime_error(what), where_(std::move(where)) {}
  const std::string& where() const noexcept { return where_; }

 private:
  std::string where_;
};

/// A configuration problem: exit code 2 at the command line.
class ABLATE_API ConfigError : public Error {
 public:
  using Error::Error;
};

}  // namespace ablate
