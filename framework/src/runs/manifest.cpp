#include "runs/manifest.hpp"

#include <sys/utsname.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "util/program.hpp"

namespace ablate {
namespace {

std::string trimmed(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(first, last - first + 1));
}

}  // namespace

std::string git_commit(const std::filesystem::path& source_dir, bool* dirty) {
  if (dirty) *dirty = false;
  const std::string dir = source_dir.string();
  const auto head = program_output({"git", "-C", dir, "rev-parse", "--verify", "HEAD"});
  if (!head) return "unknown";
  if (dirty) {
    const auto changes =
        program_output({"git", "-C", dir, "status", "--porcelain", "--untracked-files=no"});
    *dirty = !changes || !trimmed(*changes).empty();
  }
  return trimmed(*head);
}

std::string cpu_model() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    const auto colon = line.find(':');
    if (colon != std::string::npos && trimmed(line.substr(0, colon)) == "model name")
      return trimmed(line.substr(colon + 1));
  }
  return "unknown";
}

std::string compiler() {
#ifdef ABLATE_COMPILER
  return ABLATE_COMPILER;  // CMake's compiler id and version
#elif defined(__clang__)
  return "Clang " __clang_version__;
#else
  return "GNU " __VERSION__;
#endif
}

std::string hostname() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "unknown";
  return name;
}

Json host_facts() {
  Json facts = Json::object();
  facts["hostname"] = hostname();
  facts["cpu"] = cpu_model();
  facts["cores"] = std::thread::hardware_concurrency();
  utsname system{};
  facts["os"] = ::uname(&system) == 0 ? std::string(system.sysname) + " " + system.release
                                      : std::string("unknown");
  facts["compiler"] = compiler();
  bool dirty = false;
  facts["commit"] = git_commit(ABLATE_SOURCE_DIR, &dirty);
  facts["dirty"] = dirty;
  return facts;
}

}  // namespace ablate
