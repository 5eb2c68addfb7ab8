// The search journal; contract in include/ptune/search/journal.h.
#include "ptune/search/journal.h"

#include <fcntl.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "ptune/util/json.h"

namespace ptune::search {
namespace {

using nlohmann::json;

std::string dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

std::runtime_error io_error(const std::string& path, const std::string& what) {
  return std::runtime_error("search journal " + path + ": " + what + ": " + std::strerror(errno));
}

}  // namespace

Journal::Journal(std::string path) : path_(std::move(path)) {
  fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw io_error(path_, "cannot open");
  try {
    read_existing();
  } catch (...) {
    ::close(fd_);
    throw;
  }
}

Journal::~Journal() {
  if (fd_ >= 0) ::close(fd_);
}

void Journal::read_existing() {
  std::string text;
  char buf[1 << 16];
  ssize_t n;
  while ((n = ::read(fd_, buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
  if (n < 0) throw io_error(path_, "cannot read");
  const size_t complete = text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1;
  const std::string header = dump({{"journal", "ptune search"}, {"version", 1}});
  // Read everything before changing anything: a file that is not a journal stays as it was.
  if (complete == 0 && header.compare(0, text.size(), text) != 0)
    throw std::runtime_error("search journal " + path_ +
                             ":1: not a ptune search journal (move it away to start over)");
  parse_lines(std::string_view(text).substr(0, complete));
  if (complete < text.size()) {
    // A write cut short: keep the lines before it.
    dropped_ = text.size() - complete;
    if (::ftruncate(fd_, static_cast<off_t>(complete)) != 0) throw io_error(path_, "cannot trim");
  }
  if (::lseek(fd_, 0, SEEK_END) < 0) throw io_error(path_, "cannot seek");
  if (complete == 0) append(header);
}

void Journal::parse_lines(std::string_view text) {
  size_t line = 0, pos = 0;
  while (pos < text.size()) {
    const size_t end = text.find('\n', pos);
    ++line;
    const std::string_view row = text.substr(pos, end - pos);
    pos = end + 1;
    const auto fail = [&](const std::string& why) {
      return std::runtime_error("search journal " + path_ + ":" + std::to_string(line) + ": " +
                                why + " (a damaged or edited journal; move it away to start over)");
    };
    json j;
    try {
      j = util::parse_json_strict<json>(row);
    } catch (const std::exception& e) {
      throw fail(std::string("not JSON: ") + e.what());
    }
    if (line == 1) {
      if (!j.is_object() || !j.contains("journal") || j["journal"] != "ptune search")
        throw fail("not a ptune search journal");
      if (!j.contains("version") || j["version"] != 1)
        throw fail("journal version " + j.value("version", json()).dump() +
                   " (this ptune writes 1)");
      continue;
    }
    if (j.is_object() && j.contains("score") && j["score"].is_string() && j.contains("value") &&
        j["value"].is_number()) {
      scores_[j["score"].get<std::string>()] = j["value"].get<double>();
    } else if (j.is_object() && j.contains("proposal") && j["proposal"].is_string() &&
               j.contains("text") && j["text"].is_string()) {
      proposals_[j["proposal"].get<std::string>()] = j["text"].get<std::string>();
    } else {
      throw fail("neither a score nor a proposal");
    }
  }
}

void Journal::append(const std::string& lines) {
  size_t done = 0;
  while (done < lines.size()) {
    const ssize_t n = ::write(fd_, lines.data() + done, lines.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw io_error(path_, "cannot append");
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd_) != 0) throw io_error(path_, "cannot sync");
}

std::optional<double> Journal::score(const std::string& key) const {
  const auto it = scores_.find(key);
  if (it == scores_.end()) return std::nullopt;
  return it->second;
}

void Journal::add_scores(const std::vector<std::pair<std::string, double>>& scores) {
  std::string lines;
  for (const auto& [key, value] : scores) lines += dump({{"score", key}, {"value", value}});
  if (lines.empty()) return;
  append(lines);
  for (const auto& [key, value] : scores) scores_[key] = value;
}

std::optional<std::string> Journal::proposal(const std::string& key) const {
  const auto it = proposals_.find(key);
  if (it == proposals_.end()) return std::nullopt;
  return it->second;
}

void Journal::add_proposal(const std::string& key, const std::string& text) {
  append(dump({{"proposal", key}, {"text", text}}));
  proposals_[key] = text;
}

}  // namespace ptune::search
