// An LD_PRELOAD shim that makes write(2), fsync(2) or rename(2) fail the way a full disk, a
// failing device or a read-only folder does, for the fault tests
// (tests/integration/test_faults.cpp): a real `ablate` process meets a real failing system call.
//   ABLATE_FAULT_PATH=text         only files whose path contains `text` are affected (for
//                                  rename: the name renamed to)
//   ABLATE_FAULT_CALL=write|fsync|rename|open   the call that fails (default write; fsync
//                                  covers fdatasync too; open: an open for writing or creating,
//                                  as on a read-only file system)
//   ABLATE_FAULT_AFTER_BYTES=N     write: the first N bytes written to them succeed (default 0);
//                                  the write crossing N is cut short there, and later ones fail
//   ABLATE_FAULT_ERRNO=EROFS|EACCES|ENOSPC|EIO   the error (default ENOSPC)
#include <dlfcn.h>
#include <unistd.h>

#include <fcntl.h>

#include <atomic>
#include <cstdarg>
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
  if (name && std::strcmp(name, "EIO") == 0) return EIO;
  return ENOSPC;
}

bool call_is(const char* call) {
  const char* chosen = std::getenv("ABLATE_FAULT_CALL");
  return std::strcmp(chosen && *chosen ? chosen : "write", call) == 0;
}

bool path_matches(const char* path) {
  const char* pattern = std::getenv("ABLATE_FAULT_PATH");
  return pattern && *pattern && path && std::strstr(path, pattern) != nullptr;
}

}  // namespace

extern "C" ssize_t write(int fd, const void* data, size_t size) {
  static const auto real = reinterpret_cast<WriteFn>(::dlsym(RTLD_NEXT, "write"));
  if (!call_is("write") || !affected(fd)) return real(fd, data, size);
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

namespace {

template <class Fn>
int sync_call(const char* name, int fd) {
  static const auto real = reinterpret_cast<Fn>(::dlsym(RTLD_NEXT, name));
  if (call_is("fsync") && affected(fd)) {
    errno = fault_errno();
    return -1;
  }
  return real(fd);
}

}  // namespace

extern "C" int fsync(int fd) { return sync_call<int (*)(int)>("fsync", fd); }
extern "C" int fdatasync(int fd) { return sync_call<int (*)(int)>("fdatasync", fd); }

extern "C" int rename(const char* from, const char* to) {
  static const auto real = reinterpret_cast<int (*)(const char*, const char*)>(::dlsym(RTLD_NEXT, "rename"));
  if (call_is("rename") && path_matches(to)) {
    errno = fault_errno();
    return -1;
  }
  return real(from, to);
}

namespace {

template <class Fn>
int open_call(const char* name, const char* path, int flags, va_list args) {
  static const auto real = reinterpret_cast<Fn>(::dlsym(RTLD_NEXT, name));
  const mode_t mode = (flags & (O_CREAT | O_TMPFILE)) ? static_cast<mode_t>(va_arg(args, int)) : 0;
  const bool writes = (flags & (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC)) != 0;
  if (call_is("open") && writes && path_matches(path)) {
    errno = fault_errno();
    return -1;
  }
  return real(path, flags, mode);
}

}  // namespace

extern "C" int open(const char* path, int flags, ...) {
  va_list args;
  va_start(args, flags);
  const int fd = open_call<int (*)(const char*, int, ...)>("open", path, flags, args);
  va_end(args);
  return fd;
}

extern "C" int open64(const char* path, int flags, ...) {
  va_list args;
  va_start(args, flags);
  const int fd = open_call<int (*)(const char*, int, ...)>("open64", path, flags, args);
  va_end(args);
  return fd;
}
