#include "train/gemm_choice.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "ablate/error.hpp"
#include "runs/manifest.hpp"
#include "util/atomic_file.hpp"

namespace ablate {
namespace {

GemmThreading parse_threading(const std::string& name, const std::string& where) {
  if (name == "host") return GemmThreading::host;
  if (name == "blas") return GemmThreading::blas;
  throw Error(where + ": gemm_threading '" + name + "' is neither \"host\" nor \"blas\"");
}

/// Holds an exclusive flock on `file` (made if missing): processes starting at once on one
/// machine measure one at a time, and the later ones find the first one's result.
class FileLock {
 public:
  explicit FileLock(const std::filesystem::path& file)
      : fd_(::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644)) {
    if (fd_ >= 0 && ::flock(fd_, LOCK_EX) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~FileLock() {
    if (fd_ >= 0) ::close(fd_);  // releases the lock
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_;
};

/// The best of a few interleaved timings of each threading (microseconds per step): first one
/// step each to warm caches and pools and to size the runs, then three rounds of ~20 ms each.
std::pair<double, double> measure(const StepTimer& time_steps) {
  double host = time_steps(GemmThreading::host, 1);
  double blas = time_steps(GemmThreading::blas, 1);
  const int steps = std::clamp(static_cast<int>(0.02 / std::max(1e-7, std::min(host, blas))), 2, 200);
  host = blas = 1e30;
  for (int round = 0; round < 3; ++round) {
    host = std::min(host, time_steps(GemmThreading::host, steps));
    blas = std::min(blas, time_steps(GemmThreading::blas, steps));
  }
  return {host * 1e6, blas * 1e6};
}

Json read_cache(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return Json::object();
  try {
    Json cache = Json::parse(read_file(file), file.string());
    if (cache.is_object()) return cache;
    spdlog::warn("{}: not a JSON object; measuring the GEMM threading again", file.string());
  } catch (const std::exception& e) {
    spdlog::warn("{}; measuring the GEMM threading again", e.what());
  }
  return Json::object();
}

}  // namespace

std::string to_string(GemmThreading threading) {
  return threading == GemmThreading::host ? "host" : "blas";
}

std::string describe(const GemmChoice& choice) {
  std::string why = choice.source;
  if (choice.source == "config") why = "[train] gemm_threading";
  if (choice.source == "resumed") why = "recorded in manifest.json, kept on resume";
  if (choice.host_step_us && choice.blas_step_us)
    why += fmt::format(": {:.1f} us per step cut by the host, {:.1f} us threaded by OpenBLAS",
                       *choice.host_step_us, *choice.blas_step_us);
  if (choice.source == "measured" || choice.source == "cached")
    why += "; cache " + gemm_cache_file().string();
  return to_string(choice.threading) + " (" + why + ")";
}

Json to_json(const GemmChoice& choice) {
  Json j = Json::object();
  j["threading"] = to_string(choice.threading);
  j["source"] = choice.source;
  if (choice.host_step_us) j["host_step_us"] = *choice.host_step_us;
  if (choice.blas_step_us) j["blas_step_us"] = *choice.blas_step_us;
  return j;
}

GemmChoice resumed_gemm_choice(const Json& recorded, const std::string& where) {
  const Json* threading = recorded.is_object() ? recorded.find("threading") : nullptr;
  if (!threading || !threading->is_string())
    throw Error(where + ": gemm_threading has no \"threading\" string");
  GemmChoice choice{parse_threading(threading->as_string(), where), "resumed", {}, {}};
  if (const Json* us = recorded.find("host_step_us"); us && us->is_number())
    choice.host_step_us = us->as_number();
  if (const Json* us = recorded.find("blas_step_us"); us && us->is_number())
    choice.blas_step_us = us->as_number();
  return choice;
}

std::filesystem::path gemm_cache_file() {
  std::filesystem::path dir;
  if (const char* own = std::getenv("ABLATE_CACHE_DIR"); own && *own)
    dir = own;
  else if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg)
    dir = std::filesystem::path(xdg) / "ablate";
  else if (const char* home = std::getenv("HOME"); home && *home)
    dir = std::filesystem::path(home) / ".cache" / "ablate";
  else
    dir = std::filesystem::temp_directory_path() / "ablate-cache";
  return dir / "gemm-threading.json";
}

GemmChoice choose_gemm_threading(const std::string& asked, int threads,
                                 const std::string& workload, const StepTimer& time_steps) {
  if (threads <= 1) return {GemmThreading::host, "one thread", {}, {}};
  if (asked != "auto") return {parse_threading(asked, "[train]"), "config", {}, {}};

  const std::filesystem::path file = gemm_cache_file();
  // Everything a choice depends on: the CPU, the vector width of the build, the BLAS kernel,
  // the thread count and the products' shapes.
  const std::string key = cpu_model() + " | " + build_isa() + " | " + blas_core() + " | " +
                          std::to_string(threads) + " threads | " + workload;
  std::error_code ec;
  std::filesystem::create_directories(file.parent_path(), ec);
  const FileLock lock(file.string() + ".lock");
  Json cache = read_cache(file);
  if (const Json* hit = cache.find(key)) {
    try {
      GemmChoice choice = resumed_gemm_choice(*hit, file.string());
      choice.source = "cached";
      return choice;
    } catch (const Error& e) {
      spdlog::warn("{}; measuring again", e.what());
    }
  }
  const auto [host_us, blas_us] = measure(time_steps);
  GemmChoice choice{host_us <= blas_us ? GemmThreading::host : GemmThreading::blas, "measured",
                    host_us, blas_us};
  Json entry = Json::object();
  entry["threading"] = to_string(choice.threading);
  entry["host_step_us"] = host_us;
  entry["blas_step_us"] = blas_us;
  cache[key] = std::move(entry);
  try {
    write_atomic(file, cache.dump() + "\n");
  } catch (const std::exception& e) {
    spdlog::warn("could not cache the GEMM threading ({}); the next run measures again",
                 e.what());
  }
  return choice;
}

}  // namespace ablate
