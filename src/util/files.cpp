// See include/ptune/util/files.h.
#include "ptune/util/files.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace ptune::util {

void make_dirs(const std::string& dir) {
  std::string cur;
  for (size_t i = 0; i <= dir.size(); ++i) {
    if (i == dir.size() || dir[i] == '/') {
      if (!cur.empty() && mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST) {
        throw std::runtime_error("cannot create " + cur + ": " + std::strerror(errno));
      }
    }
    if (i < dir.size()) cur += dir[i];
  }
}

std::string read_file_bounded(const std::string& path, size_t max_bytes) {
  struct stat st;
  if (stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    throw std::runtime_error("is a folder, not a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(std::string("cannot open: ") + std::strerror(errno));
  std::string out;
  char buf[1 << 16];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    out.append(buf, static_cast<size_t>(in.gcount()));
    if (out.size() > max_bytes) {
      throw std::runtime_error("is larger than " + std::to_string(max_bytes >> 20) +
                               " MiB, the most ptune reads from such a file");
    }
  }
  if (in.bad()) throw std::runtime_error("read error");
  return out;
}

}  // namespace ptune::util
