#include "runs/manifest.hpp"

#include <cblas.h>
#include <signal.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <limits>
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

bool process_gone(double pid, const std::string& host) {
  if (host != hostname() || !(pid > 0 && pid <= std::numeric_limits<pid_t>::max())) return false;
  return ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
}

std::string build_isa() {
  std::string isa = "x86-64";
  // The compiler's own feature macros: what -march (ABLATE_ARCH) let it emit.
  for (const auto& [on, name] : std::initializer_list<std::pair<bool, const char*>>{
#ifdef __SSE4_2__
           {true, "sse4.2"},
#endif
#ifdef __AVX__
           {true, "avx"},
#endif
#ifdef __AVX2__
           {true, "avx2"},
#endif
#ifdef __FMA__
           {true, "fma"},
#endif
#ifdef __AVX512F__
           {true, "avx512f"},
#endif
#ifdef __AVX512BW__
           {true, "avx512bw"},
#endif
#ifdef __AVX512VL__
           {true, "avx512vl"},
#endif
#ifdef __AVX512VPOPCNTDQ__
           {true, "avx512vpopcntdq"},
#endif
           {false, ""}})
    if (on) isa += std::string(" ") + name;
  return isa;
}

std::string blas_core() {
  const char* core = openblas_get_corename();
  return core && *core ? trimmed(core) : "unknown";
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
  facts["isa"] = build_isa();
  facts["blas_core"] = blas_core();
  return facts;
}

std::vector<std::string> numerics_differences(const Json& recorded) {
  const std::pair<const char*, std::string> here[] = {
      {"cpu", cpu_model()}, {"isa", build_isa()}, {"blas_core", blas_core()}};
  std::vector<std::string> differences;
  for (const auto& [key, now] : here) {
    const Json* then = recorded.find(key);
    const std::string was = then && then->is_string() ? then->as_string() : "(not recorded)";
    if (was != now) differences.push_back(std::string(key) + ": " + was + ", here " + now);
  }
  return differences;
}

}  // namespace ablate
