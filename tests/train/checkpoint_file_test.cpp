// The checkpoint file's reader without a trainer (train/checkpoint_file.h): what metadata()
// writes, read() gives back; tensors are checked by name, shape and value. Field-by-field range
// checks through Trainer::resume are in trainer_test.cpp (ResumeTest).
#include "train/checkpoint_file.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace ptune::train {
namespace {

namespace ck = checkpoint;

safetensors::File file_with(const ck::Counters& c, const std::vector<float>& moment2) {
  safetensors::File f;
  f.metadata = ck::metadata(c, {{"lr", "0.5"}});
  f.tensors = {safetensors::make_f32("param.0", {2, 2}, {1, 2, 3, 4}),
               safetensors::make_f32("exp_avg.0", {2, 2}, {0, 0, 0, 0}),
               safetensors::make_f32("exp_avg_sq.0", {2, 2}, moment2)};
  return f;
}

ck::Expected expected() {
  ck::Expected e;
  e.settings = {{"lr", "0.5"}};
  e.shapes = {{2, 2}};
  e.total_steps = 10;
  e.examples_per_step = 4;
  return e;
}

std::string read_error(const safetensors::File& f, const ck::Expected& e) {
  try {
    ck::read(f, e);
  } catch (const std::runtime_error& x) {
    return x.what();
  }
  return "";
}

TEST(CheckpointFile, MetadataReadsBackToTheSameCounters) {
  ck::Counters c;
  c.step = 7;
  c.best_metric = 0.1 + 0.2;  // needs all 17 digits
  c.log_bytes = 123;
  c.train_seconds = 1.25;
  c.train_examples = 28;
  c.run_seconds = 3.5;
  const ck::Content got = ck::read(file_with(c, {1, 1, 1, 1}), expected());
  EXPECT_EQ(got.counters.step, 7);
  EXPECT_EQ(got.counters.best_metric, 0.1 + 0.2);
  EXPECT_EQ(got.counters.log_bytes, 123);
  EXPECT_EQ(got.counters.train_examples, 28);
  EXPECT_EQ(got.counters.run_seconds, 3.5);
  EXPECT_EQ(got.tensors.param.at(0), (std::vector<float>{1, 2, 3, 4}));
  EXPECT_TRUE(got.tensors.best.empty());
}

TEST(CheckpointFile, TensorsAreCheckedByShapeValueAndPresence) {
  ck::Counters c;
  c.step = 1;
  EXPECT_NE(read_error(file_with(c, {1, -1, 1, 1}), expected()).find("exp_avg_sq.0 holds negative"),
            std::string::npos);
  EXPECT_NE(read_error(file_with(c, {1, INFINITY, 1, 1}), expected()).find("NaN or infinite"),
            std::string::npos);
  ck::Expected other = expected();
  other.shapes = {{4, 1}};
  EXPECT_NE(read_error(file_with(c, {1, 1, 1, 1}), other)
                .find("tensor param.0 has shape [2, 2], the parameter [4, 1]"),
            std::string::npos);
  other.shapes = {{2, 2}, {3}};
  EXPECT_NE(read_error(file_with(c, {1, 1, 1, 1}), other).find("tensor param.1 missing"),
            std::string::npos);
}

TEST(CheckpointFile, SettingsDiffNamesEachThenCounts) {
  std::map<std::string, std::string> now, had;
  for (int i = 0; i < 20; ++i) now["s" + std::to_string(100 + i)] = "1";
  for (const auto& [k, v] : now) had[ck::kSettingPrefix + k] = "2";
  std::string e;
  try {
    ck::check_settings(had, now);
  } catch (const std::runtime_error& x) {
    e = x.what();
  }
  EXPECT_NE(e.find("s100 1 (checkpoint: 2)"), std::string::npos) << e;
  EXPECT_NE(e.find("and 4 more"), std::string::npos) << e;
  EXPECT_NO_THROW(ck::check_settings(ck::metadata({}, now), now));
}

}  // namespace
}  // namespace ptune::train
