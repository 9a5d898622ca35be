// An LD_PRELOAD shim that makes write(2) fail the way a full disk does, for the fault tests
// (tests/integration/test_faults.cpp): a real `ablate` process meets a real failing system call.
//   ABLATE_FAULT_PATH=text         only files whose path contains `text` are affected
//   ABLATE_FAULT_AFTER_BYTES=N     the first N bytes written to them succeed (default 0); the
//                                  write crossing N is cut short there, and later ones fail
//   ABLATE_FAULT_ERRNO=EROFS|EACCES|ENOSPC   the error (default ENOSPC)
#include <dlfcn.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

using WriteFn = ssize_t (*)(int, const void*, size_t);
std::atomic<long long> written{0};

bool affected(int fd) {
  const char* pattern = std::getenv("ABLATE_FAULT_PATH");
  if (!pattern || !*pattern || fd < 0) return false;
  char link[64], path[4096];
  std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  const ssize_t n = ::readlink(link, path, sizeof path - 1);
  if (n <= 0) return false;
  path[n] = '\0';
  return std::strstr(path, pattern) != nullptr;
}

int fault_errno() {
  const char* name = std::getenv("ABLATE_FAULT_ERRNO");
  if (name && std::strcmp(name, "EROFS") == 0) return EROFS;
  if (name && std::strcmp(name, "EACCES") == 0) return EACCES;
  return ENOSPC;
}

}  // namespace

extern "C" ssize_t write(int fd, const void* data, size_t size) {
  static const auto real = reinterpret_cast<WriteFn>(::dlsym(RTLD_NEXT, "write"));
  if (!affected(fd)) return real(fd, data, size);
  const char* after = std::getenv("ABLATE_FAULT_AFTER_BYTES");
  const long long budget = after ? std::atoll(after) : 0;
  const long long room = budget - written.load();
  if (room <= 0) {
    errno = fault_errno();
    return -1;
  }
  const size_t now = static_cast<size_t>(room) < size ? static_cast<size_t>(room) : size;
  const ssize_t got = real(fd, data, now);
  if (got > 0) written += got;
  return got;
}
