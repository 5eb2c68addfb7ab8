// runtime_bench: ptune's inference speed next to llama.cpp and transformers on the same GGUF.
//
// Measures, with ptune::Model (the llama architecture; fp32 weights dequantized from the GGUF; then
// again with the opt-in bfloat16 matmuls), at --threads T:
//   prefill  B=8 sequences x T=128 random token ids, one forward, logits only at the last position
//            (LogitsAt::Last), under torch::InferenceMode; tokens/s = 1024 / time.
//   decode   batch 1: a short prompt, then 128 greedy steps each feeding the previous argmax with
//            `past` = the previous step's `present` (return_present); tokens/s = 128 / time of the
//            128 steps (prompt excluded).
//   peak     fp32 torch::matmul [1024 x 576] @ [576 x 1536] in a loop -> GFLOP/s, the machine's
//            practical BLAS ceiling for the model's shapes.
//   achieved prefill GFLOP/s = useful FLOPs / time, with (L layers, C embd, H heads, Hkv kv heads,
//            D head_dim, F ffn, V vocab, B*T tokens):
//              2 * L * (C*H*D + 2*C*Hkv*D + H*D*C + 3*C*F) * B*T      projections + SwiGLU FFN
//            + 2 * L * H * D * B * T*(T+1)                            QK^T and AV, causal half
//            + 2 * B * C * V                                          LM head at the last positions
//            (norms, RoPE, softmax and activations are not counted).
// Each figure: one warmup run, then the median of --repeats runs.
// Then runs bench/anchors/runtime_anchors.py with the reference Python ($PTUNE_REF_PYTHON, else
// .venv-ref/bin/python, else /opt/ptune-ref/bin/python) at the same thread count and prints a table
// with ratios ptune/llama.cpp and ptune/transformers. Without that Python: ptune numbers only.
//
//   runtime_bench [--model PATH] [--threads N] [--repeats N] [--no-anchors]
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench_util.h"
#include "ptune/model/model.h"
#include "ptune/model/model_path.h"
#include "ptune/runtime/cpu_features.h"
#include "ptune/runtime/openmp.h"

namespace {

using namespace ptune::bench;

constexpr int64_t kBatch = 8, kSeq = 128, kNewTokens = 128;
// The same short prompt as runtime_anchors.py (ChatML-ish ids of SmolLM2's vocabulary).
const std::vector<int64_t> kPromptIds = {1, 9690, 198, 2683, 359, 253, 5356, 5646, 11173, 3365, 2};

struct Options {
  std::string model;
  int threads = 0;
  int repeats = 3;
  bool anchors = true;
};

// One warmup call, then the median over `repeats` calls of fn's own duration (fn returns seconds).
double median_seconds(int repeats, const std::function<double()>& fn) {
  fn();
  std::vector<double> t;
  for (int i = 0; i < repeats; ++i) t.push_back(fn());
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

double matmul_peak_gflops(int repeats) {
  torch::NoGradGuard ng;
  torch::Tensor a = torch::randn({1024, 576}), b = torch::randn({576, 1536});
  const int iters = 20;
  double secs = median_seconds(repeats, [&] {
    double t0 = now_s();
    for (int i = 0; i < iters; ++i) torch::Tensor c = torch::matmul(a, b);
    return now_s() - t0;
  });
  return 2.0 * 1024 * 576 * 1536 * iters / secs / 1e9;
}

double prefill_flops(const ptune::ModelConfig& c) {
  const double B = kBatch, T = kSeq, C = c.n_embd, H = c.n_head, Hkv = c.n_head_kv, D = c.head_dim,
               F = c.n_ff, V = c.n_vocab, L = c.n_layer;
  const double proj = C * H * D + 2 * C * Hkv * D + H * D * C + 3 * C * F;
  return 2 * L * proj * B * T + 2 * L * H * D * B * T * (T + 1) + 2 * B * C * V;
}

double bench_prefill(const ptune::Model& model, int repeats) {
  torch::InferenceMode guard;
  torch::manual_seed(1234);
  ptune::ForwardArgs args;
  args.input_ids = torch::randint(3, model.config().n_vocab, {kBatch, kSeq}, torch::kLong);
  args.logits_at = ptune::LogitsAt::Last;
  double secs = median_seconds(repeats, [&] {
    double t0 = now_s();
    torch::Tensor logits = model.forward(args).logits;
    if (logits.size(0) != kBatch) throw std::runtime_error("prefill: unexpected logits shape");
    return now_s() - t0;
  });
  return static_cast<double>(kBatch * kSeq) / secs;
}

double bench_decode(const ptune::Model& model, int repeats) {
  torch::InferenceMode guard;
  double secs = median_seconds(repeats, [&] {
    ptune::ForwardArgs args;
    args.input_ids = torch::tensor(kPromptIds, torch::kLong).unsqueeze(0);
    args.return_present = true;
    args.logits_at = ptune::LogitsAt::Last;
    ptune::ForwardResult r = model.forward(args);
    double t0 = now_s();
    for (int64_t step = 0; step < kNewTokens; ++step) {
      ptune::ForwardArgs a;
      a.input_ids = r.logits.argmax(-1).view({1, 1});  // [B=1, V] -> [1, 1]
      a.past = &r.present;
      a.return_present = true;
      a.logits_at = ptune::LogitsAt::Last;
      ptune::ForwardResult next = model.forward(a);
      r = std::move(next);
    }
    return now_s() - t0;
  });
  return static_cast<double>(kNewTokens) / secs;
}

// Runs the anchor script; returns its JSON, or a json with "error".
nlohmann::json run_anchors(const Options& o, int threads) {
  const std::string root = repo_root();
  const std::string py = find_python(root);
  if (py.empty()) {
    return {
        {"error", "no reference Python (set PTUNE_REF_PYTHON or run scripts/reference/make_venv)"}};
  }
  const std::string cmd = shell_quote(py) + " " +
                          shell_quote(root + "/bench/anchors/runtime_anchors.py") + " --model " +
                          shell_quote(o.model) + " --threads " + std::to_string(threads) +
                          " --repeats " + std::to_string(o.repeats);
  std::cerr << "runtime_bench: running anchors: " << cmd << "\n";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(cmd.c_str(), "r"), pclose);
  if (!pipe) return {{"error", "popen failed"}};
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, pipe.get())) out.append(buf, n);
  int rc = pclose(pipe.release());
  size_t brace = out.rfind("\n{");
  std::string last = out.substr(brace == std::string::npos ? 0 : brace + 1);
  try {
    return nlohmann::json::parse(last);
  } catch (const std::exception&) {
    return {{"error", "anchor script exited " + std::to_string(rc) + " without JSON"}};
  }
}

std::string fmt(double v, const char* f = "%.1f") {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

void print_row(const std::string& engine, const nlohmann::json& e, double p_pre, double p_dec) {
  if (e.contains("error")) {
    std::printf("%-14s %s\n", engine.c_str(), ("error: " + e["error"].get<std::string>()).c_str());
    return;
  }
  double pre = e.value("prefill_tps", 0.0), dec = e.value("decode_tps", 0.0);
  std::printf("%-14s %14.1f %14.1f %16s %16s\n", engine.c_str(), pre, dec,
              pre > 0 ? fmt(p_pre / pre, "%.2fx").c_str() : "-",
              dec > 0 ? fmt(p_dec / dec, "%.2fx").c_str() : "-");
}

Options parse(int argc, char** argv) {
  Options o;
  CLI::App app{"runtime_bench: prefill and decode speed against llama.cpp and transformers"};
  app.add_option("-m,--model", o.model, "GGUF model (default: the setup's)");
  app.add_option("--threads", o.threads, "CPU threads (0 = libtorch's default)")
      ->capture_default_str();
  app.add_option("--repeats", o.repeats, "Timed repeats (median)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_flag("--no-anchors{false}", o.anchors, "Measure ptune only");
  ptune::bench::parse_or_exit(app, argc, argv);
  if (o.model.empty()) o.model = ptune::default_model_path();
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  ptune::reexec_with_passive_openmp(argv);  // like ptune itself; the anchors inherit it too
  try {
    Options o = parse(argc, argv);
    if (o.threads > 0) at::set_num_threads(o.threads);
    const int threads = at::get_num_threads();
    ptune::bench::BenchRun record("runtime_bench", argc, argv, o.model,
                                  {{"threads", threads}, {"repeats", o.repeats}});
    std::printf("runtime_bench: model %s, %d threads, %d repeats (median), libtorch %s\n",
                o.model.c_str(), threads, o.repeats, TORCH_VERSION);
    std::printf("load average (1 min) at start: %.2f%s\n", loadavg1(),
                loadavg1() > 0.5 ? "  (machine not idle: numbers are pessimistic)" : "");
    std::fflush(stdout);

    double t0 = now_s();
    std::unique_ptr<ptune::Model> owned = ptune::load_model(o.model);
    const ptune::Model& model = *owned;
    std::printf("load: %.2f s\n", now_s() - t0);

    const double peak = matmul_peak_gflops(o.repeats);
    std::printf("fp32 matmul [1024x576]@[576x1536]: %.1f GFLOP/s\n", peak);
    std::fflush(stdout);
    const double pre = bench_prefill(model, o.repeats);
    const double flops = prefill_flops(model.config());
    const double achieved = flops * pre / (kBatch * kSeq) / 1e9;
    std::printf(
        "ptune prefill %lldx%lld: %.1f tok/s, %.1f GFLOP/s achieved (%.1f GFLOP per pass, %.0f%% "
        "of matmul peak)\n",
        static_cast<long long>(kBatch), static_cast<long long>(kSeq), pre, achieved, flops / 1e9,
        100.0 * achieved / peak);
    std::fflush(stdout);
    const double dec = bench_decode(model, o.repeats);
    std::printf("ptune decode (batch 1, %lld new tokens): %.1f tok/s\n",
                static_cast<long long>(kNewTokens), dec);
    std::fflush(stdout);

    // The opt-in bfloat16 matmul path (--dtype bfloat16 in the CLI), same measurements; only
    // where the CPU has bf16 hardware (without it libtorch's fallback GEMM takes minutes).
    double pre_bf16 = 0, dec_bf16 = 0;
    if (ptune::cpu_features().bf16_matmul()) {
      std::unique_ptr<ptune::Model> bf16_owned =
          ptune::load_model(o.model, torch::kCPU, torch::kBFloat16);
      const ptune::Model& bf16 = *bf16_owned;
      pre_bf16 = bench_prefill(bf16, o.repeats);
      dec_bf16 = bench_decode(bf16, o.repeats);
      std::printf("ptune bf16 matmuls: prefill %.1f tok/s, decode %.1f tok/s\n", pre_bf16,
                  dec_bf16);
    } else {
      std::printf("ptune bf16 matmuls: skipped (this CPU has no AVX512-BF16 or AMX-BF16)\n");
    }
    std::fflush(stdout);

    nlohmann::json anchors =
        o.anchors ? run_anchors(o, threads) : nlohmann::json{{"error", "skipped (--no-anchors)"}};
    std::printf("\n%-14s %14s %14s %16s %16s\n", "engine", "prefill tok/s", "decode tok/s",
                "ptune/x prefill", "ptune/x decode");
    std::printf("%-14s %14.1f %14.1f %16s %16s\n", "ptune", pre, dec, "1.00x", "1.00x");
    record.add("ptune prefill", pre, "tok/s");
    record.add("ptune decode", dec, "tok/s");
    if (pre_bf16 > 0) {
      record.add("ptune bf16 prefill", pre_bf16, "tok/s");
      record.add("ptune bf16 decode", dec_bf16, "tok/s");
    }
    for (const char* name : {"llama_cpp", "transformers"}) {
      if (!anchors.contains(name) || anchors[name].contains("error")) continue;
      const double a_pre = anchors[name]["prefill_tps"].get<double>();
      const double a_dec = anchors[name]["decode_tps"].get<double>();
      record.add(std::string(name) + " prefill", a_pre, "tok/s");
      record.add(std::string(name) + " decode", a_dec, "tok/s");
      record.add(std::string("ptune / ") + name + " prefill", pre / a_pre, "x");
      record.add(std::string("ptune / ") + name + " decode", dec / a_dec, "x");
    }
    record.finish();
    if (anchors.contains("error")) {
      std::printf("(anchors: %s)\n", anchors["error"].get<std::string>().c_str());
    } else {
      print_row("llama.cpp", anchors.value("llama_cpp", nlohmann::json{{"error", "missing"}}), pre,
                dec);
      print_row("transformers", anchors.value("transformers", nlohmann::json{{"error", "missing"}}),
                pre, dec);
      for (const char* name : {"llama_cpp", "transformers"}) {
        if (pre_bf16 <= 0 || !anchors.contains(name) || anchors[name].contains("error")) continue;
        std::printf("ptune bf16 / %-12s prefill %.2fx, decode %.2fx\n", name,
                    pre_bf16 / anchors[name]["prefill_tps"].get<double>(),
                    dec_bf16 / anchors[name]["decode_tps"].get<double>());
      }
      if (anchors.contains("llama_cpp") &&
          anchors["llama_cpp"].contains("prefill_sequential_tps")) {
        std::printf("(llama.cpp prefill of the 8 sequences one after another: %.1f tok/s)\n",
                    anchors["llama_cpp"]["prefill_sequential_tps"].get<double>());
      }
    }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "runtime_bench: error: " << e.what() << "\n";
    return 1;
  }
}
