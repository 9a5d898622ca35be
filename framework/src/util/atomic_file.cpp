#include "util/atomic_file.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include "ablate/error.hpp"

namespace ablate {
namespace {

constexpr std::string_view kTemporaryMarker = ".ablate-tmp-";

[[noreturn]] void fail(const std::string& doing, const std::filesystem::path& path, int error) {
  throw Error("cannot " + doing + " " + path.string() + ": " + std::strerror(error), path.string());
}

/// Closes a descriptor when it goes out of scope.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  /// Closes now, reporting the error a deferred write may only show here.
  int close() {
    const int result = ::close(fd_);
    fd_ = -1;
    return result;
  }

 private:
  int fd_;
};

void write_all(int fd, std::string_view bytes, const std::filesystem::path& path) {
  while (!bytes.empty()) {
    const ssize_t written = ::write(fd, bytes.data(), bytes.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      fail("write", path, errno);
    }
    bytes.remove_prefix(static_cast<std::size_t>(written));
  }
}

std::filesystem::path temporary_name_for(const std::filesystem::path& path) {
  static std::atomic<unsigned> counter{0};
  return path.parent_path() / fmt::format(".{}{}{}-{}", path.filename().string(), kTemporaryMarker,
                                          ::getpid(), counter++);
}

void sync_folder(const std::filesystem::path& folder) {
  const std::filesystem::path dir = folder.empty() ? "." : folder;
  FileDescriptor fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) fail("open folder", dir, errno);
  if (::fsync(fd.get()) != 0) fail("sync folder", dir, errno);
}

}  // namespace

void write_atomic(const std::filesystem::path& path, std::string_view bytes) {
  if (path.filename().empty()) throw Error("cannot write " + path.string() + ": not a file name");
  const std::filesystem::path temporary = temporary_name_for(path);
  FileDescriptor fd(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666));
  if (fd.get() < 0) fail("create a temporary file for", path, errno);
  try {
    write_all(fd.get(), bytes, path);
    if (::fsync(fd.get()) != 0) fail("sync", path, errno);
    if (fd.close() != 0) fail("close", path, errno);
    if (::rename(temporary.c_str(), path.c_str()) != 0)
      fail("rename a temporary file to", path, errno);
  } catch (...) {
    ::unlink(temporary.c_str());
    throw;
  }
  sync_folder(path.parent_path());
}

AppendOnlyFile::AppendOnlyFile(std::filesystem::path path) : path_(std::move(path)) {
  fd_ = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
  if (fd_ < 0) fail("open", path_, errno);
}

AppendOnlyFile::AppendOnlyFile(AppendOnlyFile&& other) noexcept
    : path_(std::move(other.path_)), fd_(std::exchange(other.fd_, -1)) {}

AppendOnlyFile& AppendOnlyFile::operator=(AppendOnlyFile&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    path_ = std::move(other.path_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

AppendOnlyFile::~AppendOnlyFile() {
  if (fd_ >= 0) ::close(fd_);
}

void AppendOnlyFile::append(std::string_view record) {
  const off_t start = ::lseek(fd_, 0, SEEK_END);
  if (start < 0) fail("write", path_, errno);
  try {
    write_all(fd_, record, path_);
  } catch (...) {
    // Part of the record may be in: cut it off, so what the file holds stays whole records.
    if (::ftruncate(fd_, start) != 0) { /* the reader drops an unterminated last line */ }
    throw;
  }
}

void AppendOnlyFile::sync() {
  if (::fdatasync(fd_) != 0) fail("sync", path_, errno);
}

void create_folders(const std::filesystem::path& folder) {
  std::error_code error;
  std::filesystem::create_directories(folder, error);
  if (error) fail("create the folder", folder, error.value());
}

void read_chunks(const std::filesystem::path& path,
                 const std::function<void(std::string_view chunk)>& consume) {
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) fail("read", path, errno);
  std::vector<char> buffer(1 << 16);
  for (;;) {
    const ssize_t got = ::read(fd.get(), buffer.data(), buffer.size());
    if (got < 0) {
      if (errno == EINTR) continue;
      fail("read", path, errno);
    }
    if (got == 0) return;
    consume({buffer.data(), static_cast<std::size_t>(got)});
  }
}

std::string read_file(const std::filesystem::path& path) {
  std::string contents;
  read_chunks(path, [&](std::string_view chunk) { contents.append(chunk); });
  return contents;
}

bool is_temporary_name(const std::string& filename) {
  return filename.size() > 1 && filename.front() == '.' &&
         filename.find(kTemporaryMarker) != std::string::npos;
}

std::size_t remove_temporary_files(const std::filesystem::path& folder) {
  std::vector<std::filesystem::path> leftovers;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(folder))
    if (entry.is_regular_file() && is_temporary_name(entry.path().filename().string()))
      leftovers.push_back(entry.path());
  for (const auto& file : leftovers) std::filesystem::remove(file);
  return leftovers.size();
}

}  // namespace ablate
