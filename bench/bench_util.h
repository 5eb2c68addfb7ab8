// Helpers shared by the bench programs: timing, the machine's load, and finding the reference
// Python that runs the anchors (llama.cpp, transformers) in the same run.
#pragma once

#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace ptune::bench {

inline double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// 1-minute load average (-1 if unknown); a busy machine makes every figure pessimistic.
inline double loadavg1() {
  double l = -1;
  if (FILE* f = std::fopen("/proc/loadavg", "r")) {
    if (std::fscanf(f, "%lf", &l) != 1) l = -1;
    std::fclose(f);
  }
  return l;
}

inline bool is_file(const std::string& p) {
  struct stat st {};
  return stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// The repository root: this header is <root>/bench/bench_util.h (CMake passes absolute paths).
inline std::string repo_root() {
  std::string f = __FILE__;
  for (int i = 0; i < 2; ++i) {
    size_t s = f.find_last_of('/');
    if (s == std::string::npos) return ".";
    f = f.substr(0, s);
  }
  return f.empty() ? "/" : f;
}

// $PTUNE_REF_PYTHON, else <root>/.venv-ref/bin/python (scripts/reference/make_venv), else
// /opt/ptune-ref/bin/python; "" when none exists.
inline std::string find_python(const std::string& root) {
  if (const char* p = std::getenv("PTUNE_REF_PYTHON"); p && *p) return p;
  for (const std::string& c :
       {root + "/.venv-ref/bin/python", std::string("/opt/ptune-ref/bin/python")}) {
    if (is_file(c)) return c;
  }
  return "";
}

inline std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char ch : s) out += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return out + "'";
}

}  // namespace ptune::bench
