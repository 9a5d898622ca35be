#pragma once
// Which GEMM threading a run uses above one thread (nn/gemm_threading.hpp): the host's cut or
// OpenBLAS's own threads. Which is faster depends on the CPU, the BLAS kernel and the shapes
// (docs/BENCHMARKS.md), so by default it is measured on first use, cached per machine and
// workload, and recorded in manifest.json; a resume reuses the recorded one, since the two
// round differently.
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "nn/gemm_threading.hpp"
#include "runs/json.hpp"

namespace ablate {

struct GemmChoice {
  GemmThreading threading = GemmThreading::host;
  /// Why: "one thread" (both are one sgemm per product), "no GEMMs" (the engine makes none),
  /// "config" ([train] gemm_threading), "resumed" (the manifest's), "cached" or "measured".
  std::string source;
  /// Best microseconds per training step of each, where measured (now or when cached).
  std::optional<double> host_step_us, blas_step_us;
};

Json to_json(const GemmChoice& choice);
/// For the log: "host (measured: 916.0 us per step cut by the host, ...; cache FILE)".
std::string describe(const GemmChoice& choice);
/// The choice a manifest recorded, as "resumed"; Error naming `where` when malformed.
GemmChoice resumed_gemm_choice(const Json& recorded, const std::string& where);

std::string to_string(GemmThreading threading);

/// Where measured choices are kept: $ABLATE_CACHE_DIR, else $XDG_CACHE_HOME/ablate, else
/// ~/.cache/ablate; gemm-threading.json in it.
std::filesystem::path gemm_cache_file();

/// Times one training step under a threading: seconds per step over `steps` steps, the engine's
/// state left as it was.
using StepTimer = std::function<double(GemmThreading threading, int steps)>;

/// The choice for `asked` ("auto", "host" or "blas") at `threads` threads. "auto" looks up
/// this CPU, build, BLAS kernel, thread count and `workload` (the engine's shapes) in the
/// cache; on a miss it times a few steps each way, interleaved, keeps the faster and caches it.
/// A cache that cannot be read or written is warned about, never fatal. Does not apply it.
GemmChoice choose_gemm_threading(const std::string& asked, int threads,
                                 const std::string& workload, const StepTimer& time_steps);

}  // namespace ablate
