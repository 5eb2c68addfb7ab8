// Search candidates; contract in include/ptune/search/candidate.h.
#include "ptune/search/candidate.h"

#include <sstream>
#include <stdexcept>

#include "search/content_hash.h"

namespace ptune::search {

using nlohmann::json;

namespace {

const char* kind_name(DemoChoice::Kind k) {
  switch (k) {
    case DemoChoice::Kind::Task:
      return "task";
    case DemoChoice::Kind::Fixed:
      return "fixed";
    case DemoChoice::Kind::Similar:
      return "similar";
  }
  return "?";
}

DemoChoice::Kind kind_from(const std::string& s) {
  if (s == "task") return DemoChoice::Kind::Task;
  if (s == "fixed") return DemoChoice::Kind::Fixed;
  if (s == "similar") return DemoChoice::Kind::Similar;
  throw std::invalid_argument("unknown demo choice '" + s + "'");
}

std::string demos_text(const DemoChoice& d) {
  std::ostringstream o;
  switch (d.kind) {
    case DemoChoice::Kind::Task:
      return "task's demos";
    case DemoChoice::Kind::Fixed:
      if (d.indices.empty()) return "k=0";
      o << "k=" << d.indices.size() << " fixed [";
      for (size_t i = 0; i < d.indices.size(); ++i) o << (i ? " " : "") << d.indices[i];
      o << "]";
      return o.str();
    case DemoChoice::Kind::Similar:
      o << "k=" << d.k << " similar";
      if (d.per_label) o << " (<= " << d.per_label << " per label)";
      return o.str();
  }
  return "?";
}

}  // namespace

bool ranked_task(const tasks::TaskSpec& t) {
  return t.type == tasks::TaskType::Classification || t.type == tasks::TaskType::MultipleChoice;
}

Candidate start_candidate(const tasks::TaskSpec& task) {
  Candidate c;
  c.instruction = task.instruction;
  c.calibration = task.scoring.calibration;
  c.normalize = task.scoring.normalize;
  c.origin = "start";
  return c;
}

json to_json(const Candidate& c) {
  json d = {{"kind", kind_name(c.demos.kind)}};
  if (c.demos.kind == DemoChoice::Kind::Fixed) d["indices"] = c.demos.indices;
  if (c.demos.kind == DemoChoice::Kind::Similar) {
    d["k"] = c.demos.k;
    d["per_label"] = c.demos.per_label;
  }
  json j = {{"instruction", c.instruction},
            {"demos", d},
            {"calibration", c.calibration},
            {"normalize", tasks::to_string(c.normalize)}};
  if (!c.words.empty()) j["words"] = c.words;
  return j;
}

Candidate candidate_from_json(const json& j) {
  Candidate c;
  c.instruction = j.at("instruction").get<std::string>();
  const json& d = j.at("demos");
  c.demos.kind = kind_from(d.at("kind").get<std::string>());
  if (d.contains("indices")) c.demos.indices = d["indices"].get<std::vector<size_t>>();
  if (d.contains("k")) c.demos.k = d["k"].get<size_t>();
  if (d.contains("per_label")) c.demos.per_label = d["per_label"].get<size_t>();
  c.calibration = j.at("calibration").get<bool>();
  c.normalize = j.at("normalize").get<std::string>() == "mean" ? tasks::ScoreNormalization::Mean
                                                               : tasks::ScoreNormalization::Sum;
  if (j.contains("words")) c.words = j["words"].get<std::vector<std::vector<std::string>>>();
  return c;
}

std::string candidate_id(const Candidate& c) {
  return content_hash(to_json(c).dump()).substr(0, 12);
}

std::string describe(const Candidate& c, const Candidate& start) {
  std::string s = demos_text(c.demos);
  if (c.calibration) s += ", calibrated";
  s += c.normalize == tasks::ScoreNormalization::Mean ? ", mean" : ", sum";
  if (!c.words.empty() && c.words != start.words) {
    s += ", words";
    for (size_t l = 0; l < c.words.size(); ++l) {
      s += l ? " / " : " ";
      for (size_t w = 0; w < c.words[l].size(); ++w) s += (w ? "|" : "") + c.words[l][w];
    }
  }
  if (c.instruction != start.instruction) s += ", instruction changed";
  return s;
}

tasks::TaskSpec apply_candidate(const tasks::TaskSpec& base, const Candidate& c) {
  tasks::TaskSpec t = base;
  t.instruction = c.instruction;
  switch (c.demos.kind) {
    case DemoChoice::Kind::Task:
      break;
    case DemoChoice::Kind::Fixed:
      t.few_shot.selection = tasks::DemoSelection::Fixed;
      t.few_shot.indices = c.demos.indices;
      t.few_shot.k = c.demos.indices.size();
      t.few_shot.resample = false;
      t.few_shot.per_label = 0;
      break;
    case DemoChoice::Kind::Similar:
      t.few_shot.selection = tasks::DemoSelection::Similar;
      t.few_shot.indices.clear();
      t.few_shot.k = c.demos.k;
      t.few_shot.per_label = c.demos.per_label;
      break;
  }
  if (!c.words.empty()) {
    for (size_t l = 0; l < t.labels.size() && l < c.words.size(); ++l)
      t.labels[l].words = c.words[l];
  }
  t.scoring.calibration = c.calibration;
  t.scoring.normalize = c.normalize;
  t.validate();
  return t;
}

}  // namespace ptune::search
