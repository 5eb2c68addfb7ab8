// serve_bench: aggregate generated tokens/s and time to first token of `ptune serve` at 1, 8 and
// 32 concurrent streams, for the base model and for 8 different tuned prompts mixed, next to
// the anchors in the same run: llama.cpp's server (llama-cpp-python[server], same GGUF, same
// threads; it runs one request at a time, queueing the rest: it has no parallel slots) and a
// transformers + PEFT loop that switches adapters per request (bench/anchors/peft_switch_loop.py),
// when the reference venv has them.
//
// Workload, the same for every server: S client threads, each sending `--requests` streamed
// completions one after another (prompt "Request <k>: write a long, friendly reply ...",
// max_tokens, temperature 0, EOS not ignored). A request's first token is its first chunk with
// text; tokens are the usage the server reports (ptune, llama.cpp) or, if none, the chunks.
// tok/s = all tokens / wall time of the level.
#include <httplib.h>
#include <signal.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <mutex>
#include <thread>

#include "bench_util.h"
#include "ptune/io/gguf.h"
#include "ptune/model/model.h"
#include "ptune/model/model_path.h"
#include "ptune/serve/server.h"

namespace {

using nlohmann::json;

struct Options {
  std::string model;
  std::vector<int> streams = {1, 8, 32};
  int requests = 2;  // per stream
  int max_tokens = 64;
  int threads = 2;
  bool anchors = true;
  std::vector<std::string> servers = {"ptune", "llama.cpp", "peft"};
};

struct Level {
  double tok_s = 0, ttft_p50 = 0, wall = 0;
  int64_t tokens = 0, failed = 0;
};

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(p * (v.size() - 1) + 0.5)];
}

// One streamed completion: the HTTP status (0 when the connection failed), the tokens and the
// seconds to the first text.
struct Outcome {
  int status = 0;
  int64_t tokens = 0;
  double ttft = 0;
};

Outcome stream_once(int port, const std::string& model, int k, int max_tokens) {
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(600, 0);
  const json body = {{"model", model},
                     {"prompt", "Request " + std::to_string(k) +
                                    ": write a long, friendly reply to a customer whose card "
                                    "payment was declined twice today."},
                     {"max_tokens", max_tokens},
                     {"temperature", 0},
                     {"stream", true},
                     {"stream_options", {{"include_usage", true}}}};
  httplib::Request req;
  req.method = "POST";
  req.path = "/v1/completions";
  req.body = body.dump();
  req.set_header("Content-Type", "application/json");
  const double t0 = ptune::bench::now_s();
  double first = -1;
  int64_t chunks = 0, usage = -1;
  std::string buffer;
  req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
    buffer.append(data, n);
    size_t end;
    while ((end = buffer.find("\n\n")) != std::string::npos) {
      std::string event = buffer.substr(0, end);
      buffer.erase(0, end + 2);
      if (event.rfind("data: ", 0) != 0 || event == "data: [DONE]") continue;
      const json j = json::parse(event.substr(6), nullptr, false);
      if (j.is_discarded()) continue;
      if (j.contains("usage") && j["usage"].is_object()) {
        usage = j["usage"].value("completion_tokens", int64_t{-1});
      }
      if (!j.contains("choices") || j["choices"].empty()) continue;
      const std::string text = j["choices"][0].value("text", "");
      if (!text.empty()) {
        ++chunks;
        if (first < 0) first = ptune::bench::now_s() - t0;
      }
    }
    return true;
  };
  auto r = c.send(req);
  if (!r || (r->status != 200 && r->status != 429)) {
    std::fprintf(stderr, "serve_bench: request %d to %s failed: %s\n", k, model.c_str(),
                 r ? ("status " + std::to_string(r->status) + " " + r->body.substr(0, 200)).c_str()
                   : httplib::to_string(r.error()).c_str());
  }
  if (!r) return {};
  return {r->status, usage >= 0 ? usage : chunks, first < 0 ? 0 : first};
}

// `streams` clients, each sending o.requests requests; model ids cycle through `models`.
Level run_level(int port, const std::vector<std::string>& models, int streams, const Options& o) {
  std::mutex mu;
  std::vector<double> ttft;
  Level lv;
  const double t0 = ptune::bench::now_s();
  std::vector<std::thread> clients;
  for (int s = 0; s < streams; ++s) {
    clients.emplace_back([&, s] {
      for (int i = 0; i < o.requests; ++i) {
        const int k = s * o.requests + i;
        const Outcome out = stream_once(port, models[k % models.size()], k, o.max_tokens);
        std::lock_guard<std::mutex> lock(mu);
        if (out.status != 200) {
          ++lv.failed;
        } else {
          lv.tokens += out.tokens;
          ttft.push_back(out.ttft);
        }
      }
    });
  }
  for (auto& t : clients) t.join();
  lv.wall = ptune::bench::now_s() - t0;
  lv.tok_s = lv.tokens / lv.wall;
  lv.ttft_p50 = percentile(ttft, 0.5);
  return lv;
}

// The seven PEFT-format adapters in tests/data (prompt tuning, P-tuning, prefix tuning, made by
// PEFT and by ptune) and one discrete prompt: eight tuned prompts of four kinds.
std::vector<ptune::serve::ServedAdapter> bench_adapters(const ptune::Model& model,
                                                        const std::string& dir) {
  const std::string root = ptune::bench::repo_root() + "/tests/data/";
  const std::vector<std::string> folders = {"peft_smollm2/prompt_tuning",
                                            "peft_smollm2/p_tuning",
                                            "peft_smollm2/prefix_tuning",
                                            "ptune_smollm2/p_tuning_lstm",
                                            "ptune_smollm2/p_tuning_mlp",
                                            "ptune_smollm2/prefix_tuning",
                                            "ptune_smollm2/prefix_tuning_projection"};
  std::vector<ptune::serve::ServedAdapter> out;
  for (size_t i = 0; i < folders.size(); ++i) {
    out.push_back(
        ptune::serve::load_served_adapter("a" + std::to_string(i), root + folders[i], model));
  }
  const std::string hard = dir + "/discrete.json";
  std::ofstream(hard) << R"({"format": "ptune-discrete-prompt", "version": 1,
    "text": "You are a patient, friendly support agent.", "placement": "prefix"})";
  out.push_back(ptune::serve::load_served_adapter("a7", hard, model));
  return out;
}

void print_row(const char* name, int streams, const Level& lv) {
  std::printf("| %s | %d | %.1f | %.3f | %lld | %lld | %.1f |\n", name, streams, lv.tok_s,
              lv.ttft_p50, static_cast<long long>(lv.tokens), static_cast<long long>(lv.failed),
              lv.wall);
  std::fflush(stdout);
}

// A child process started with posix_spawn, killed (SIGTERM, then SIGKILL) when it goes.
struct Child {
  pid_t pid = -1;
  ~Child() {
    if (pid <= 0) return;
    kill(pid, SIGTERM);
    for (int i = 0; i < 50 && waitpid(pid, nullptr, WNOHANG) == 0; ++i) usleep(100000);
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }
};

bool wait_for_server(int port, double seconds) {
  const double end = ptune::bench::now_s() + seconds;
  while (ptune::bench::now_s() < end) {
    httplib::Client c("127.0.0.1", port);
    if (auto r = c.Get("/v1/models"); r && r->status == 200) return true;
    usleep(250000);
  }
  return false;
}

Child spawn(const std::vector<std::string>& args, const std::string& log) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  Child c;
  if (posix_spawn(&c.pid, argv[0], &fa, nullptr, argv.data(), environ) != 0) c.pid = -1;
  posix_spawn_file_actions_destroy(&fa);
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  o.model = ptune::default_model_path();
  CLI::App app{
      "serve_bench: ptune serve (base, 8 adapters mixed) vs llama.cpp's server and a "
      "transformers + PEFT loop, same workload, same run"};
  app.add_option("-m,--model", o.model, "GGUF model")->capture_default_str();
  app.add_option("--streams", o.streams, "Concurrent streams per level")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--requests", o.requests, "Requests per stream")->capture_default_str();
  app.add_option("--max-tokens", o.max_tokens, "max_tokens per request")->capture_default_str();
  app.add_option("--threads", o.threads, "CPU threads for every engine")->capture_default_str();
  app.add_flag("!--no-anchors", o.anchors, "Skip llama.cpp and the PEFT loop");
  app.add_option("--servers", o.servers, "Which to run: ptune, llama.cpp, peft")
      ->delimiter(',')
      ->check(CLI::IsMember({"ptune", "llama.cpp", "peft"}))
      ->capture_default_str();
  ptune::bench::parse_or_exit(app, argc, argv);
  signal(SIGPIPE, SIG_IGN);
  try {
    ptune::bench::BenchRun record(
        "serve_bench", argc, argv, o.model,
        {{"max_tokens", o.max_tokens}, {"requests", o.requests}, {"threads", o.threads}});
    torch::set_num_threads(o.threads);
    const std::string dir = ptune::bench::make_temp_dir("serve_bench");
    auto file = ptune::gguf::GgufFile::open(o.model);
    const ptune::Tokenizer tok = ptune::Tokenizer::from_gguf(file);
    const auto model = ptune::model_from_gguf(file);
    std::printf("serve_bench: %s, %d threads, %d requests per stream, max_tokens %d, load %.2f\n\n",
                o.model.c_str(), o.threads, o.requests, o.max_tokens, ptune::bench::loadavg1());
    std::printf("| server | streams | tok/s | p50 TTFT s | tokens | failed | wall s |\n");
    std::printf("|---|---|---|---|---|---|---|\n");

    const int max_streams = *std::max_element(o.streams.begin(), o.streams.end());
    ptune::serve::ServerOptions so;
    so.port = 0;
    so.model_id = "base";
    so.engine.max_sequences = max_streams;
    ptune::serve::Server server(*model, tok, bench_adapters(*model, dir), so);
    server.bind();
    std::thread listener([&] { server.listen(); });
    std::vector<std::string> adapters;
    for (int i = 0; i < 8; ++i) adapters.push_back("a" + std::to_string(i));
    std::map<int, Level> base, mixed;
    auto wanted = [&](const char* name) {
      return std::find(o.servers.begin(), o.servers.end(), name) != o.servers.end();
    };
    for (int s : wanted("ptune") ? o.streams : std::vector<int>{}) {
      base[s] = run_level(server.port(), {"base"}, s, o);
      print_row("ptune, base model", s, base[s]);
      mixed[s] = run_level(server.port(), adapters, s, o);
      print_row("ptune, 8 adapters mixed", s, mixed[s]);
      record.add("ptune base tok/s @" + std::to_string(s), base[s].tok_s, "tok/s");
      record.add("ptune mixed tok/s @" + std::to_string(s), mixed[s].tok_s, "tok/s");
      record.add("ptune base p50 TTFT @" + std::to_string(s), base[s].ttft_p50, "s");
      record.add("ptune mixed p50 TTFT @" + std::to_string(s), mixed[s].ttft_p50, "s");
    }
    server.stop();
    listener.join();

    const std::string python = ptune::bench::find_python(ptune::bench::repo_root());
    std::map<int, Level> llama;
    if (o.anchors && !python.empty() && wanted("llama.cpp")) {
      const int port = 18000 + static_cast<int>(getpid() % 1000);
      Child c = spawn({python, "-m", "llama_cpp.server", "--model", o.model, "--host", "127.0.0.1",
                       "--port", std::to_string(port), "--n_threads", std::to_string(o.threads),
                       "--n_ctx", "8192", "--model_alias", "base",
                       // Its default lets each new request cut off the running one: queue them.
                       "--interrupt_requests", "False"},
                      dir + "/llama_server.log");
      if (c.pid > 0 && wait_for_server(port, 120)) {
        for (int s : o.streams) {
          llama[s] = run_level(port, {"base"}, s, o);
          print_row("llama.cpp server (llama-cpp-python)", s, llama[s]);
          record.add("llama.cpp tok/s @" + std::to_string(s), llama[s].tok_s, "tok/s");
          record.add("llama.cpp p50 TTFT @" + std::to_string(s), llama[s].ttft_p50, "s");
          if (llama[s].failed) {
            std::fprintf(
                stderr, "llama.cpp server log:\n%s\n",
                ptune::bench::tail(ptune::bench::read_file(dir + "/llama_server.log"), 15).c_str());
          }
        }
      } else {
        std::printf(
            "| llama.cpp server | - | did not start: %s |\n",
            ptune::bench::tail(ptune::bench::read_file(dir + "/llama_server.log"), 3).c_str());
      }
    }
    double peft_tok_s = 0;
    if (o.anchors && !python.empty() && wanted("peft")) {
      const std::string cmd = ptune::bench::shell_quote(python) + " " +
                              ptune::bench::shell_quote(ptune::bench::repo_root() +
                                                        "/bench/anchors/peft_switch_loop.py") +
                              " --model " + ptune::bench::shell_quote(o.model) +
                              " --requests 16 --max-tokens " + std::to_string(o.max_tokens) +
                              " --threads " + std::to_string(o.threads) + " 2>/dev/null";
      const json r = json::parse(ptune::bench::read_command_output(cmd), nullptr, false);
      if (!r.is_discarded() && r.contains("tok_s")) {
        peft_tok_s = r["tok_s"];
        std::printf(
            "| transformers + PEFT, adapter switched per request | 1 (sequential) | %.1f | "
            "%.3f | %lld | 0 | %.1f |\n",
            peft_tok_s, r.value("ttft_p50", 0.0), r.value("tokens", 0LL), r.value("wall_s", 0.0));
        record.add("transformers+PEFT switching tok/s", peft_tok_s, "tok/s");
      } else {
        std::printf(
            "| transformers + PEFT | - | did not run (bench/anchors/peft_switch_loop.py) |\n");
      }
    }

    std::printf(
        "\n| streams | mixed / base | base / llama.cpp | mixed / PEFT loop |\n|---|---|---|---|\n");
    for (int s : o.streams) {
      auto ratio = [](double a, double b) {
        return b > 0 ? std::to_string(a / b).substr(0, 5) + "x" : std::string("-");
      };
      std::printf("| %d | %s | %s | %s |\n", s, ratio(mixed[s].tok_s, base[s].tok_s).c_str(),
                  ratio(base[s].tok_s, llama.count(s) ? llama[s].tok_s : 0).c_str(),
                  ratio(mixed[s].tok_s, peft_tok_s).c_str());
      if (base[s].tok_s > 0) {
        record.add("mixed / base @" + std::to_string(s), mixed[s].tok_s / base[s].tok_s, "x");
      }
      if (peft_tok_s > 0) {
        record.add("mixed / PEFT loop @" + std::to_string(s), mixed[s].tok_s / peft_tok_s, "x");
      }
    }
    record.finish();
    std::filesystem::remove_all(dir);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "serve_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
