// The search's journal: every example score and every proposer answer a search obtained, one
// JSON object per line, appended and fsync'd as they come. It is also the search's cache: a
// score is keyed by the content hash of what produced it (model, prompt, scoring settings,
// example), so nothing is scored twice in a run or across runs sharing the journal, and a search
// killed at any point and run again replays what it had and goes on where it stopped.
//
//   {"journal": "ptune search", "version": 1}        first line
//   {"score": KEY, "value": 0.0 | 1.0 | ...}         one example under one prompt
//   {"proposal": KEY, "text": "..."}                 one proposer answer (its prompt's hash)
// A last line without its newline is a write cut short by a crash: it is dropped (and the file
// truncated to the lines before it) when the journal opens. Any other line that does not read is
// an error naming the file and line: the journal was edited or damaged, and guessing would be a
// silent wrong result. A file that fails to read is left exactly as it was (nothing trimmed).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace ptune::search {

class Journal {
 public:
  // Opens (creating) `path`. Throws std::runtime_error naming the file and line for a journal
  // that cannot be read, written or parsed.
  explicit Journal(std::string path);
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  std::optional<double> score(const std::string& key) const;
  // Appends the scores in one write, then fsync: once this returns they survive a crash.
  void add_scores(const std::vector<std::pair<std::string, double>>& scores);
  std::optional<std::string> proposal(const std::string& key) const;
  void add_proposal(const std::string& key, const std::string& text);

  size_t score_count() const { return scores_.size(); }
  size_t proposal_count() const { return proposals_.size(); }
  // Bytes of a cut-short last line dropped when the journal opened (0 for a clean file).
  size_t dropped_bytes() const { return dropped_; }
  const std::string& path() const { return path_; }

 private:
  void read_existing();
  void parse_lines(std::string_view text);  // complete lines; fills scores_ and proposals_
  void append(const std::string& lines);

  std::string path_;
  int fd_ = -1;
  std::unordered_map<std::string, double> scores_;
  std::unordered_map<std::string, std::string> proposals_;
  size_t dropped_ = 0;
};

}  // namespace ptune::search
