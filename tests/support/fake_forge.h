// FakeForge: an in-memory forge (comments per pull request, open pull requests and their
// files) for tests of upsert_comment, pr-comment and the controller's pull-request comments.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "plumbline/forge/forge.h"

namespace plumbline::testing {

class FakeForge : public Forge {
 public:
  Result<std::vector<ForgeComment>> list_comments(long pr) override;
  Result<ForgeComment> create_comment(long pr, const std::string& body) override;
  Result<ForgeComment> update_comment(long pr, const std::string& id,
                                      const std::string& body) override;
  Result<std::vector<PullRequest>> open_pull_requests() override;
  Result<std::vector<std::string>> changed_files(long pr) override;
  size_t max_comment_chars() const override { return max_chars; }
  std::string describe() const override { return "fake org/ops"; }

  // Test setup and inspection.
  void add_pull_request(PullRequest pr, std::vector<std::string> files);
  void add_comment(long pr, std::string body);  // someone else's comment
  void set_head(long pr, std::string sha);      // a push to the PR
  std::vector<ForgeComment> comments(long pr) const;
  int creates() const;
  int updates() const;
  int file_lists() const;          // changed_files calls
  std::optional<Error> fail_next;  // the next call fails with this error
  size_t max_chars = 65536;

 private:
  std::optional<Error> take_failure();
  mutable std::mutex mu_;
  std::map<long, std::vector<ForgeComment>> comments_;
  std::vector<std::pair<PullRequest, std::vector<std::string>>> pulls_;
  long next_id_ = 1000;
  int creates_ = 0, updates_ = 0, file_lists_ = 0;
};

}  // namespace plumbline::testing
