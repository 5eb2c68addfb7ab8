// Helpers shared by the bench programs: timing, the machine's load, finding the reference
// Python that runs the anchors (llama.cpp, transformers) in the same run, and running a child
// (a shell command's output, or a program measured by wait4 for its wall time and peak RSS), and
// recording a bench's figures in the run store.
#pragma once

#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <CLI/CLI.hpp>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "ptune/runs/recorder.h"

extern char** environ;

namespace ptune::bench {

// Parses a bench's command line with CLI11 (--help lists the options with their defaults); a bad
// command line prints CLI11's message and exits with its code.
inline void parse_or_exit(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    std::exit(app.exit(e));
  }
}

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

// A fresh folder under the system's temporary directory, "<name>.XXXXXX".
inline std::string make_temp_dir(const std::string& name) {
  std::string tmpl = (std::filesystem::temp_directory_path() / (name + ".XXXXXX")).string();
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed for " + tmpl);
  return tmpl;
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

// A double as the shortest text that round-trips for the usual values ("0.03", "3e-05").
inline std::string num_arg(double v) {
  char b[64];
  for (int prec = 6; prec <= 17; ++prec) {
    std::snprintf(b, sizeof b, "%.*g", prec, v);
    if (std::strtod(b, nullptr) == v) break;
  }
  return b;
}

inline std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char ch : s) out += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return out + "'";
}

// The whole stdout of `sh -c cmd`; "" when it cannot be started.
inline std::string read_command_output(const std::string& cmd) {
  std::string out;
  if (FILE* p = popen(cmd.c_str(), "r")) {
    char buf[4096];
    size_t k;
    while ((k = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, k);
    pclose(p);
  }
  return out;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The last `lines` lines of s.
inline std::string tail(const std::string& s, size_t lines) {
  size_t pos = s.size();
  for (size_t n = 0; n <= lines && pos > 0;) {
    pos = s.rfind('\n', pos - 1);
    if (pos == std::string::npos) return s;
    ++n;
  }
  return s.substr(pos + 1);
}

struct ChildResult {
  int status = -1;         // exit code, or -1 when it did not exit normally
  double wall_s = 0;       // fork to reap
  double max_rss_mib = 0;  // wait4 ru_maxrss (KiB) / 1024
  std::string out, err;    // captured stdout / stderr
};

// Runs argv[0] with stdout/stderr into files under `dir`, waits with wait4 and returns its
// resource usage. Only this child is measured (its own and its waited-for descendants' peak).
// `tag` starts the "running ..." line on stderr.
inline ChildResult run_child(const std::vector<std::string>& args, const std::string& dir,
                             const std::string& name, const char* tag) {
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const std::string out_path = dir + "/" + name + ".stdout",
                    err_path = dir + "/" + name + ".stderr";
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::string cmdline;
  for (const std::string& a : args) {
    if (!cmdline.empty()) cmdline += ' ';
    cmdline += shell_quote(a);
  }
  std::fprintf(stderr, "%s: running %s\n", tag, cmdline.c_str());
  ChildResult r;
  const double t0 = now_s();
  pid_t pid = -1;
  int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) throw std::runtime_error("cannot start " + args[0] + ": " + std::strerror(rc));
  int status = 0;
  struct rusage ru {};
  while (wait4(pid, &status, 0, &ru) < 0) {
    if (errno != EINTR) throw std::runtime_error(std::string("wait4: ") + std::strerror(errno));
  }
  r.wall_s = now_s() - t0;
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.max_rss_mib = static_cast<double>(ru.ru_maxrss) / 1024.0;
  r.out = read_file(out_path);
  r.err = read_file(err_path);
  return r;
}

// A bench's figures as a run "bench:<name>" in the run store ($PTUNE_RUNS, else runs/ptune.db),
// so `ptune runs list --command bench:` and `ptune report` show them beside the runs they
// measure. Recording is never what makes a bench fail: a store that cannot be written is a
// warning. finish() records the figures; a bench that throws first is recorded as failed.
class BenchRun {
 public:
  BenchRun(const std::string& name, int argc, char** argv, const std::string& model,
           nlohmann::json settings = nlohmann::json::object()) {
    try {
      runs::RunStart start;
      start.command = "bench:" + name;
      start.argv.assign(argv, argv + argc);
      start.model_path = is_file(model) ? model : "";
      settings["load_average"] = loadavg1();
      start.settings = std::move(settings);
      rec_ = std::make_unique<runs::Recorder>(runs::default_store_path(), start);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s: not recorded in the run store: %s\n", name.c_str(), e.what());
    }
  }
  // One figure: "ptune decode tok/s" -> {"value": 11.3, "unit": "tok/s"}.
  void add(const std::string& row, double value, const std::string& unit) {
    metrics_[row] = {{"value", value}, {"unit", unit}};
  }
  void finish() {
    if (!rec_) return;
    try {
      rec_->finish(metrics_, {}, {});
      std::fprintf(stderr, "recorded %s\n", rec_->where().c_str());
    } catch (const std::exception& e) {
      std::fprintf(stderr, "not recorded in the run store: %s\n", e.what());
    }
    rec_.reset();
  }

 private:
  std::unique_ptr<runs::Recorder> rec_;
  nlohmann::json metrics_ = nlohmann::json::object();
};

}  // namespace ptune::bench
