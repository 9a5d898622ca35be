// The GEMM threading above one thread (issue 14): measured on first use, cached per machine and
// workload, never fatal when the cache is bad. The timer here is a stand-in for the engine's
// steps, so that which side wins is the test's to say, not the machine's.
#include <catch2/catch.hpp>

#include <cstdlib>

#include "support.hpp"
#include "train/gemm_choice.hpp"

using namespace ablate;
using ablate::test::TempDir;

namespace {

/// Points the cache at `dir` for the test's lifetime.
struct CacheIn {
  explicit CacheIn(const std::filesystem::path& dir) { ::setenv("ABLATE_CACHE_DIR", dir.c_str(), 1); }
  ~CacheIn() { ::unsetenv("ABLATE_CACHE_DIR"); }
};

/// A timer under which `faster` takes 1 ms a step and the other 2 ms; counts its calls.
struct FakeSteps {
  GemmThreading faster;
  int calls = 0;
  StepTimer timer() {
    return [this](GemmThreading t, int steps) {
      REQUIRE(steps >= 1);
      ++calls;
      return t == faster ? 1e-3 : 2e-3;
    };
  }
};

}  // namespace

TEST_CASE("auto measures the faster GEMM threading once, then reads it from the cache",
          "[gemm]") {
  TempDir tmp("ablate-gemm-cache");
  const CacheIn cache(tmp.path());
  FakeSteps blas_wins{GemmThreading::blas};
  const GemmChoice first = choose_gemm_threading("auto", 2, "batch 32, parameters 8x4", blas_wins.timer());
  CHECK(first.threading == GemmThreading::blas);
  CHECK(first.source == "measured");
  CHECK(first.host_step_us == Approx(2000));
  CHECK(first.blas_step_us == Approx(1000));
  CHECK(blas_wins.calls >= 4);  // interleaved rounds of each
  CHECK(std::filesystem::exists(gemm_cache_file()));

  // Same machine and workload: the cache answers, nothing is timed, even if timing now says
  // otherwise (a choice must not flip from run to run on noise).
  FakeSteps host_wins{GemmThreading::host};
  const GemmChoice again = choose_gemm_threading("auto", 2, "batch 32, parameters 8x4", host_wins.timer());
  CHECK(again.threading == GemmThreading::blas);
  CHECK(again.source == "cached");
  CHECK(again.blas_step_us == Approx(1000));
  CHECK(host_wins.calls == 0);

  // Another workload or thread count is measured on its own.
  CHECK(choose_gemm_threading("auto", 2, "batch 128, parameters 8x4", host_wins.timer()).source == "measured");
  CHECK(choose_gemm_threading("auto", 3, "batch 32, parameters 8x4", host_wins.timer()).threading == GemmThreading::host);
  CHECK(again.threading == resumed_gemm_choice(to_json(again), "m").threading);
}

TEST_CASE("a GEMM cache that cannot be read or written is warned about, never fatal", "[gemm]") {
  TempDir tmp("ablate-gemm-bad-cache");
  const CacheIn cache(tmp.path());
  ablate::test::write_text(gemm_cache_file(), "{not json");
  FakeSteps host_wins{GemmThreading::host};
  const GemmChoice choice = choose_gemm_threading("auto", 2, "w", host_wins.timer());
  CHECK(choice.source == "measured");
  CHECK(choice.threading == GemmThreading::host);
  // The bad file was replaced by a good one.
  CHECK(choose_gemm_threading("auto", 2, "w", host_wins.timer()).source == "cached");

  const CacheIn nowhere("/proc/ablate-cannot-write-here");
  CHECK(choose_gemm_threading("auto", 2, "w", host_wins.timer()).source == "measured");
}

TEST_CASE("one thread, or a threading the config names, is not measured", "[gemm]") {
  TempDir tmp("ablate-gemm-asked");
  const CacheIn cache(tmp.path());
  FakeSteps blas_wins{GemmThreading::blas};
  CHECK(choose_gemm_threading("auto", 1, "w", blas_wins.timer()).source == "one thread");
  const GemmChoice asked = choose_gemm_threading("host", 2, "w", blas_wins.timer());
  CHECK(asked.threading == GemmThreading::host);
  CHECK(asked.source == "config");
  CHECK(blas_wins.calls == 0);
  CHECK_FALSE(std::filesystem::exists(gemm_cache_file()));
  CHECK_THROWS_WITH(resumed_gemm_choice(Json::parse(R"({"threading":"gpu"})"), "manifest.json"),
                    Catch::Contains("manifest.json: gemm_threading 'gpu' is neither"));
}
