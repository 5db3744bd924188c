#include "support/fake_forge.h"

namespace plumbline::testing {

std::optional<Error> FakeForge::take_failure() {
  std::optional<Error> failure;
  failure.swap(fail_next);
  return failure;
}

Result<std::vector<ForgeComment>> FakeForge::list_comments(long pr) {
  std::lock_guard lock(mu_);
  if (auto failure = take_failure()) return *failure;
  return comments_[pr];
}

Result<ForgeComment> FakeForge::create_comment(long pr, const std::string& body) {
  std::lock_guard lock(mu_);
  if (auto failure = take_failure()) return *failure;
  ForgeComment c{std::to_string(next_id_++), body};
  comments_[pr].push_back(c);
  ++creates_;
  return c;
}

Result<ForgeComment> FakeForge::update_comment(long pr, const std::string& id,
                                               const std::string& body) {
  std::lock_guard lock(mu_);
  if (auto failure = take_failure()) return *failure;
  for (ForgeComment& c : comments_[pr]) {
    if (c.id == id) {
      c.body = body;
      ++updates_;
      return c;
    }
  }
  return not_found("no comment " + id, "fake");
}

Result<std::vector<PullRequest>> FakeForge::open_pull_requests() {
  std::lock_guard lock(mu_);
  if (auto failure = take_failure()) return *failure;
  std::vector<PullRequest> out;
  for (const auto& [pr, files] : pulls_) out.push_back(pr);
  return out;
}

Result<std::vector<std::string>> FakeForge::changed_files(long pr) {
  std::lock_guard lock(mu_);
  ++file_lists_;
  if (auto failure = take_failure()) return *failure;
  for (const auto& [p, files] : pulls_) {
    if (p.number == pr) return files;
  }
  return not_found("no pull request " + std::to_string(pr), "fake");
}

void FakeForge::add_pull_request(PullRequest pr, std::vector<std::string> files) {
  std::lock_guard lock(mu_);
  pulls_.emplace_back(std::move(pr), std::move(files));
}

void FakeForge::set_head(long pr, std::string sha) {
  std::lock_guard lock(mu_);
  for (auto& [p, files] : pulls_) {
    if (p.number == pr) p.head_sha = sha;
  }
}

void FakeForge::add_comment(long pr, std::string body) {
  std::lock_guard lock(mu_);
  comments_[pr].push_back({std::to_string(next_id_++), std::move(body)});
}

std::vector<ForgeComment> FakeForge::comments(long pr) const {
  std::lock_guard lock(mu_);
  auto it = comments_.find(pr);
  return it == comments_.end() ? std::vector<ForgeComment>{} : it->second;
}

int FakeForge::creates() const {
  std::lock_guard lock(mu_);
  return creates_;
}
int FakeForge::file_lists() const {
  std::lock_guard lock(mu_);
  return file_lists_;
}

int FakeForge::updates() const {
  std::lock_guard lock(mu_);
  return updates_;
}

}  // namespace plumbline::testing
