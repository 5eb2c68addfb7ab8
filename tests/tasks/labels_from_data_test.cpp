// "labels": "from_data": the labels are the data's values, verbalized from their names (or by
// label_words), and every way that can go wrong names the labels involved.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "ptune/tasks/errors.h"
#include "ptune/tasks/task.h"

namespace ptune::tasks {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

class LabelsFromData : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("ptune_labels_" + std::to_string(getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Writes data.csv with these (text, category) rows and task.json with `extra` keys; loads it.
  TaskSpec load(const std::vector<std::pair<std::string, std::string>>& rows,
                const std::string& extra = "", const std::string& type = "classification") {
    std::ofstream csv(dir_ / "data.csv");
    csv << "text,category\n";
    for (const auto& [text, cat] : rows) csv << text << "," << cat << "\n";
    csv.close();
    std::ofstream(dir_ / "task.json") << R"({"type": ")" << type << R"(", "labels": "from_data",
      "template": "Message: {text}\nIntent:",
      "data": {"file": "data.csv", "fields": {"text": "text", "label": "category"},
               "split": {"train": 0.5, "dev": 0.25, "test": 0.25, "stratify": false}})"
                                      << extra << "}";
    return load_task((dir_ / "task.json").string());
  }

  fs::path dir_;
};

TEST(LabelWords, NamesBecomeWords) {
  EXPECT_EQ(label_words_for("card_payment_not_recognised"), "card payment not recognised");
  EXPECT_EQ(label_words_for("top-up__failed_"), "top up failed");
  EXPECT_EQ(label_words_for("Refund"), "Refund");
}

TEST_F(LabelsFromData, LabelsAreTheDataValuesInFirstSeenOrder) {
  const TaskSpec t = load({{"where is my card", "card_arrival"},
                           {"my transfer is late", "transfer_timing"},
                           {"card not here", "card_arrival"},
                           {"rate?", "exchange_rate"}});
  ASSERT_EQ(t.labels.size(), 3u);
  EXPECT_EQ(t.labels[0].name, "card_arrival");
  EXPECT_EQ(t.labels[0].words, (std::vector<std::string>{"card arrival"}));
  EXPECT_EQ(t.labels[1].name, "transfer_timing");
  EXPECT_EQ(t.labels[2].words, (std::vector<std::string>{"exchange rate"}));
}

TEST_F(LabelsFromData, LabelWordsOverrideTheName) {
  const TaskSpec t = load({{"a", "card_arrival"}, {"b", "atm_support"}, {"c", "atm_support"}},
                          R"(, "label_words": {"atm_support": ["cash machine", "ATM"]})");
  EXPECT_EQ(t.labels[1].words, (std::vector<std::string>{"cash machine", "ATM"}));
  EXPECT_EQ(t.labels[0].words, (std::vector<std::string>{"card arrival"}));
}

TEST_F(LabelsFromData, TwoLabelsReadingTheSameAreAnErrorNamingBoth) {
  try {
    load({{"a", "card_arrival"}, {"b", "card-arrival"}, {"c", "x_y"}});
    FAIL() << "duplicate verbalizers accepted";
  } catch (const TaskFileError& e) {
    EXPECT_THAT(e.what(), HasSubstr("'card_arrival' and 'card-arrival' both read as 'card "
                                    "arrival'"));
  }
}

TEST_F(LabelsFromData, BadOverridesAreErrors) {
  EXPECT_THAT(
      [&] {
        load({{"a", "x"}, {"b", "y"}}, R"(, "label_words": {"z": "zed"})");
      },
      ::testing::ThrowsMessage<TaskFileError>(HasSubstr("no data row has this label")));
  EXPECT_THROW(load({{"a", "x"}, {"b", "y"}}, R"(, "label_words": {"x": []})"), TaskFileError);
  EXPECT_THAT(
      [&] {
        load({{"a", "x"}, {"b", "x"}});
      },
      ::testing::ThrowsMessage<TaskFileError>(HasSubstr("need at least two labels")));
}

TEST(LabelsFromDataParse, OnlyForClassificationAndOnlyTheOneWord) {
  const char* base = R"({"type": "%s", "labels": %s, "template": "{text}",
                         "data": {"file": "d.csv"}%s})";
  char buf[512];
  std::snprintf(buf, sizeof buf, base, "classification", "\"from_file\"", "");
  EXPECT_THROW(parse_task(buf, "t.json", "."), TaskFileError);
  std::snprintf(buf, sizeof buf, base, "generation", "\"from_data\"", "");
  EXPECT_THROW(parse_task(buf, "t.json", "."), TaskFileError);
  std::snprintf(buf, sizeof buf, base, "classification", R"({"a": ["x"], "b": ["y"]})",
                R"(, "label_words": {"a": "z"})");
  EXPECT_THROW(parse_task(buf, "t.json", "."), TaskFileError);
  // parse_task reads no data: the labels wait for resolve_labels_from_data.
  std::snprintf(buf, sizeof buf, base, "classification", "\"from_data\"", "");
  const TaskSpec t = parse_task(buf, "t.json", ".");
  EXPECT_TRUE(t.labels_from_data);
  EXPECT_TRUE(t.labels.empty());
}

}  // namespace
}  // namespace ptune::tasks
