#include "ptune/train/output_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <random>
#include <set>
#include <stdexcept>
#include <vector>

namespace ptune::train {

namespace {

namespace fs = std::filesystem;

std::string errno_text(int err) {
  return std::strerror(err);
}

// `path` absolute and without a trailing separator ("runs/x/" -> "/cwd/runs/x"), so that its
// siblings and lock file sit beside it even for "." or "x/".
fs::path normalized(const std::string& path) {
  fs::path p = fs::absolute(path).lexically_normal();
  if (p.filename().empty() && p.has_parent_path() && p != p.root_path()) p = p.parent_path();
  return p;
}

bool same_file(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

// What the holder wrote into a lock file (its pid), for the message; "" when unreadable.
std::string holder_of(int fd) {
  char buf[32] = {};
  const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return "";
  std::string s(buf, static_cast<size_t>(n));
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s.find_first_not_of("0123456789") == std::string::npos ? s : "";
}

// The pid only improves another run's message: the lock holds without it.
void record_holder(int fd) {
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0) return;
  const ssize_t written = ::pwrite(fd, pid.data(), pid.size(), 0);
  (void)written;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// PathLock

PathLock::PathLock(const std::string& path) : lock_file_(normalized(path).string() + ".lock") {
  std::error_code ec;
  fs::create_directories(fs::path(lock_file_).parent_path(), ec);  // a new -o's parent
  // The previous holder removes its lock file when done: a lock taken on a file that was removed
  // meanwhile guards nothing (the next run creates a new file), so it is taken again.
  for (int attempt = 0; attempt < 10; ++attempt) {
    const int fd = ::open(lock_file_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
      throw std::runtime_error("cannot create the lock file " + lock_file_ + " for " + path + ": " +
                               errno_text(errno));
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      const std::string holder = holder_of(fd);
      ::close(fd);
      if (err == EWOULDBLOCK) {
        throw std::runtime_error(
            path + " is in use: another ptune" + (holder.empty() ? "" : " (pid " + holder + ")") +
            " holds its lock " + lock_file_ + "; wait for it to finish or use another path");
      }
      throw std::runtime_error("cannot lock " + lock_file_ + ": " + errno_text(err));
    }
    struct stat held {
    }, now{};
    if (::fstat(fd, &held) == 0 && ::stat(lock_file_.c_str(), &now) == 0 && same_file(held, now)) {
      fd_ = fd;
      record_holder(fd_);
      return;
    }
    ::close(fd);
  }
  throw std::runtime_error("cannot lock " + lock_file_ + ": it keeps being replaced");
}

PathLock::~PathLock() {
  if (fd_ < 0) return;
  ::unlink(lock_file_.c_str());  // before unlocking: a waiter then retries on a fresh file
  ::close(fd_);
}

// ---------------------------------------------------------------------------------------------
// replace_dir

namespace {

void fsync_path(const fs::path& p, bool directory) {
  const int fd = ::open(p.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error("cannot open " + p.string() + ": " + errno_text(errno));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) throw std::runtime_error("cannot sync " + p.string() + ": " + errno_text(err));
}

// Every file under `dir`, then `dir` itself, on disk: the swap must not publish a folder whose
// files a power cut would leave empty.
void sync_tree(const fs::path& dir) {
  for (const fs::directory_entry& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) fsync_path(e.path(), false);
    if (e.is_directory()) fsync_path(e.path(), true);
  }
  fsync_path(dir, true);
}

// A new empty folder `target + tag + 6 random characters`, made as mkdir makes folders (the
// umask applies; mkdtemp's 0700 would make the published output private).
fs::path make_temp_dir(const fs::path& target, const char* tag) {
  static const char kChars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::random_device seed;
  std::mt19937_64 rng((static_cast<uint64_t>(seed()) << 32) ^ static_cast<uint64_t>(::getpid()));
  for (int attempt = 0; attempt < 100; ++attempt) {
    std::string name = target.string() + tag;
    for (int i = 0; i < 6; ++i) name += kChars[rng() % (sizeof kChars - 1)];
    if (::mkdir(name.c_str(), 0777) == 0) return name;
    if (errno != EEXIST) break;
  }
  throw std::runtime_error("cannot create a folder beside " + target.string() + ": " +
                           errno_text(errno));
}

void rename_or_throw(const fs::path& from, const fs::path& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) {
    throw std::runtime_error("cannot rename " + from.string() + " to " + to.string() + ": " +
                             errno_text(errno));
  }
}

// Moves the entries of `from` that `to` lacks into `to`; returns their names (for move_back).
// On a failure, what it moved so far goes back before it throws.
std::vector<std::string> carry_over(const fs::path& from, const fs::path& to) {
  std::set<std::string> present;
  for (const fs::directory_entry& e : fs::directory_iterator(to))
    present.insert(e.path().filename().string());
  std::vector<std::string> names;
  for (const fs::directory_entry& e : fs::directory_iterator(from)) {
    const std::string name = e.path().filename().string();
    if (!present.count(name)) names.push_back(name);
  }
  std::vector<std::string> moved;
  for (const std::string& name : names) {
    if (::rename((from / name).c_str(), (to / name).c_str()) != 0) {
      const int err = errno;
      for (const std::string& m : moved) ::rename((to / m).c_str(), (from / m).c_str());
      throw std::runtime_error("cannot move " + (from / name).string() +
                               " into the new output: " + errno_text(err));
    }
    moved.push_back(name);
  }
  return moved;
}

// Moves `names` back from `from` to `to`; false when one of them could not be moved.
bool move_back(const std::vector<std::string>& names, const fs::path& from, const fs::path& to) {
  bool ok = true;
  for (const std::string& n : names) ok &= ::rename((from / n).c_str(), (to / n).c_str()) == 0;
  return ok;
}

// Puts folder `fresh` at `target` (an existing folder); returns where the old folder now is.
fs::path swap_in(const fs::path& fresh, const fs::path& target) {
  if (::renameat2(AT_FDCWD, fresh.c_str(), AT_FDCWD, target.c_str(), RENAME_EXCHANGE) == 0)
    return fresh;
  if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP) {
    throw std::runtime_error("cannot swap " + fresh.string() + " with " + target.string() + ": " +
                             errno_text(errno));
  }
  // No exchange on this file system: two renames (a crash between them leaves the old output
  // in `aside` and none at `target`, never a mixed one).
  const fs::path aside = make_temp_dir(target, ".old-");
  try {
    rename_or_throw(target, aside);  // over the empty `aside`
  } catch (...) {
    ::rmdir(aside.c_str());
    throw;
  }
  if (::rename(fresh.c_str(), target.c_str()) != 0) {
    const int err = errno;
    ::rename(aside.c_str(), target.c_str());
    throw std::runtime_error("cannot rename " + fresh.string() + " to " + target.string() + ": " +
                             errno_text(err));
  }
  return aside;
}

bool is_cwd(const fs::path& p) {
  struct stat a {
  }, b{};
  return ::stat(".", &a) == 0 && ::stat(p.c_str(), &b) == 0 && same_file(a, b);
}

}  // namespace

void replace_dir(const std::string& dir, const std::function<void(const std::string&)>& write) {
  fs::path target = normalized(dir);
  if (fs::is_symlink(target)) target = fs::canonical(target);
  fs::create_directories(target.parent_path());
  const bool existed = fs::exists(target);
  if (existed && !fs::is_directory(target)) throw std::runtime_error(dir + " is not a folder");
  const bool was_cwd = existed && is_cwd(target);

  const fs::path fresh = make_temp_dir(target, ".tmp-");
  if (existed) {  // the output keeps the folder's permissions
    std::error_code ec;
    fs::permissions(fresh, fs::status(target).permissions(), ec);
  }
  std::vector<std::string> carried;
  // Undoes everything before the swap; returns what the message adds.
  auto roll_back = [&]() -> std::string {
    if (!move_back(carried, fresh, target))
      return " (some of " + dir + "'s files are left in " + fresh.string() + ")";
    std::error_code ec;
    fs::remove_all(fresh, ec);
    return existed ? " (" + dir + " is unchanged)" : "";
  };
  fs::path old;
  try {
    write(fresh.string());
    sync_tree(fresh);
    if (existed) carried = carry_over(target, fresh);
    if (existed) {
      old = swap_in(fresh, target);
    } else {
      rename_or_throw(fresh, target);
    }
  } catch (const std::exception& e) {
    const std::string what = e.what();
    throw std::runtime_error("writing " + dir + ": " + what + roll_back());
  } catch (...) {
    roll_back();
    throw;
  }
  // Committed: what follows cannot undo it, so its failures are only reported.
  try {
    fsync_path(target.parent_path(), true);
  } catch (const std::exception& e) {
    std::cerr << "warning: " << e.what() << "\n";
  }
  // The process stood in the old folder: it moves to the new one at the same path.
  if (was_cwd && ::chdir(target.c_str()) != 0)
    std::cerr << "warning: cannot enter " << target.string() << ": " << errno_text(errno) << "\n";
  std::error_code ec;
  if (!old.empty()) fs::remove_all(old, ec);
  if (ec) {
    std::cerr << "warning: cannot remove the previous output " << old.string() << ": "
              << ec.message() << "\n";
  }
}

}  // namespace ptune::train
