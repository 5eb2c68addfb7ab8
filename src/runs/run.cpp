// Run's small helpers; see include/ptune/runs/run.h.
#include "ptune/runs/run.h"

#include <cstdio>
#include <stdexcept>

namespace ptune::runs {

namespace {
constexpr const char* kStatusNames[] = {"running", "finished", "failed", "interrupted"};
}  // namespace

std::string to_string(Status status) {
  return kStatusNames[static_cast<int>(status)];
}

Status status_from_string(const std::string& text) {
  for (int i = 0; i < 4; ++i) {
    if (text == kStatusNames[i]) return static_cast<Status>(i);
  }
  throw std::invalid_argument("unknown run status '" + text +
                              "' (running, finished, failed or interrupted)");
}

std::string Run::label() const {
  std::string s = command;
  if (!task.empty()) s += " " + task;
  s += " #" + std::to_string(id);
  // Which examples its metrics are on: a tune's dev score beside an eval's test score must say so.
  const auto split = settings.find("split");
  if (split != settings.end() && split->is_string()) s += " (" + split->get<std::string>() + ")";
  return s;
}

std::string Run::headline() const {
  for (const auto& [name, m] : metrics.items()) {
    if (!m.is_object() || !m.contains("value") || !m["value"].is_number()) continue;
    char buf[160];
    if (m.contains("low") && m.contains("high")) {
      std::snprintf(buf, sizeof buf, "%s %.4f [%.4f, %.4f]", name.c_str(), m["value"].get<double>(),
                    m.value("low", 0.0), m.value("high", 0.0));
    } else {
      std::snprintf(buf, sizeof buf, "%s %.4g", name.c_str(), m["value"].get<double>());
    }
    return buf;
  }
  return "";
}

nlohmann::json to_json(const Run& r) {
  nlohmann::json artifacts = nlohmann::json::array();
  for (const Artifact& a : r.artifacts) {
    artifacts.push_back({{"path", a.path}, {"kind", a.kind}, {"sha256", a.sha256}});
  }
  return {{"id", r.id},
          {"command", r.command},
          {"argv", r.argv},
          {"version", r.version},
          {"started_at", r.started_at},
          {"finished_at", r.finished_at},
          {"status", to_string(r.status)},
          {"error", r.error},
          {"model", r.model},
          {"model_sha256", r.model_sha256},
          {"task", r.task},
          {"task_path", r.task_path},
          {"task_sha256", r.task_sha256},
          {"settings", r.settings},
          {"metrics", r.metrics},
          {"steps", r.steps},
          {"examples", r.examples},
          {"artifacts", artifacts}};
}

}  // namespace ptune::runs
