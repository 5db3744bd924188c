// upsert_comment: plumbline's one comment per PR and environment, found by its marker; and
// the per-provider defaults the CLI and the controller share.
#include "plumbline/forge/forge.h"

namespace plumbline {

std::string default_token_env(std::string_view provider) {
  if (provider == "gitlab") return "GITLAB_TOKEN";
  if (provider == "gitea") return "GITEA_TOKEN";
  return "GITHUB_TOKEN";
}

size_t max_comment_chars(std::string_view provider) {
  if (provider == "github") return 65536;
  // GitLab: notes are limited to 1,000,000 characters. Gitea 1.26 sets no limit (LONGTEXT,
  // the API checks only that a body is given): the same bound keeps a page readable.
  if (provider == "gitlab" || provider == "gitea") return 1000000;
  return 0;
}

std::string_view to_string(CommentAction action) {
  switch (action) {
    case CommentAction::kCreated:
      return "created";
    case CommentAction::kUpdated:
      return "updated";
    case CommentAction::kUnchanged:
      return "unchanged";
  }
  return "created";
}

namespace {

// Forges store a comment with CRLF line ends or without its final newline; neither is a change.
bool same_text(std::string_view stored, std::string_view body) {
  auto normal = [](std::string_view text) {
    std::string out;
    for (char c : text) {
      if (c != '\r') out += c;
    }
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    return out;
  };
  return normal(stored) == normal(body);
}

}  // namespace

Result<CommentPosted> upsert_comment(Forge& forge, long pr, std::string_view marker,
                                     const std::string& body) {
  if (marker.empty() || !body.starts_with(marker)) {
    return Error(ErrorCode::kInternal, "a comment body must start with its marker");
  }
  PL_ASSIGN_OR_RETURN(std::vector<ForgeComment> comments, forge.list_comments(pr));
  for (const ForgeComment& c : comments) {
    std::string_view text = c.body;
    while (!text.empty() && (text.front() == ' ' || text.front() == '\n' || text.front() == '\r')) {
      text.remove_prefix(1);
    }
    if (!text.starts_with(marker)) continue;
    if (same_text(c.body, body)) return CommentPosted{c.id, CommentAction::kUnchanged};
    PL_ASSIGN_OR_RETURN(ForgeComment updated, forge.update_comment(pr, c.id, body));
    return CommentPosted{updated.id, CommentAction::kUpdated};
  }
  PL_ASSIGN_OR_RETURN(ForgeComment created, forge.create_comment(pr, body));
  return CommentPosted{created.id, CommentAction::kCreated};
}

}  // namespace plumbline
