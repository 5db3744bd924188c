// The pull-request comment of one environment: what the PR changes, what the cluster has now
// for those fields, the policy violations it adds or removes and the differences with other
// environments it creates. Bounded: rows are kept by importance until the comment fits the
// forge's limit, and a notice says how many were left out.
#include <algorithm>
#include <functional>
#include <numeric>

#include "plumbline/core/utf8.h"
#include "plumbline/review/pr_review.h"
#include "report/internal.h"

namespace plumbline {
namespace {

using report_internal::cell;
using report_internal::location_cell;
using report_internal::plural;
using report_internal::value_text;

constexpr size_t kMaxValueChars = 200;  // one hostile value must not fill the comment

std::string short_cell(const std::string& text) {
  std::string cut = utf8_prefix(text, kMaxValueChars);
  return cell(cut.size() < text.size() ? cut + "…" : cut);
}
std::string value_of(const json& v) { return v.is_null() ? "—" : short_cell(value_text(v)); }

std::string object_cell(const std::string& kind, const std::string& name) {
  return short_cell(kind + " " + name);
}

std::string live_cell(const FieldChange& c) {
  std::string by;
  if (!c.live_manager.empty()) {
    by = " by " + short_cell(c.live_manager);
    if (!c.live_changed_at.empty()) by += " at " + short_cell(c.live_changed_at);
  }
  switch (c.live_state) {
    case LiveState::kUnknown:
      return "—";
    case LiveState::kAsBase:
      return "as base";
    case LiveState::kAlreadyHead:
      return "**already live**: set by hand" + by;
    case LiveState::kDiffers:
      return value_of(c.live) + by + " (neither base nor head)";
    case LiveState::kObjectMissing:
      return "object not in the cluster";
  }
  return "—";
}

bool live_matters(const FieldChange& c) {
  return c.live_state == LiveState::kAlreadyHead || c.live_state == LiveState::kDiffers;
}

// The sections, in the order they are shown. Rows are kept in another order (importance).
enum Section { kChanges, kIntroduced, kFixed, kCrossCreated, kCrossRemoved, kSections };

struct Row {
  Section section;
  size_t index;  // into the review's vector of that section
};

int importance(const EnvironmentReview& r, const Row& row) {
  switch (row.section) {
    case kIntroduced:
      return 0;
    case kChanges: {
      const FieldChange& c = r.changes[row.index];
      if (live_matters(c)) return 1;
      return report_internal::is_security(c.change.category) ? 2 : 3;
    }
    case kCrossCreated:
      return r.cross[row.index].difference.allowed ? 5 : 2;
    case kFixed:
      return 4;
    case kCrossRemoved:
      return 6;
    default:
      return 7;
  }
}

struct Table {
  std::string title;
  std::string header;  // "| a | b |\n|---|---|\n"
  std::vector<std::string> rows;
};

std::string table_markdown(const Table& t, size_t fold_rows) {
  if (t.rows.empty()) return "";
  std::string out = "\n**" + t.title + "**\n\n" + t.header;
  size_t shown = std::min(fold_rows, t.rows.size());
  for (size_t i = 0; i < shown; ++i) out += t.rows[i];
  if (shown < t.rows.size()) {
    out += "\n<details><summary>" + plural(t.rows.size() - shown, "more row", "more rows") +
           "</summary>\n\n" + t.header;
    for (size_t i = shown; i < t.rows.size(); ++i) out += t.rows[i];
    out += "\n</details>\n";
  }
  return out;
}

std::string revision_text(const ReportSource& s, bool present) {
  if (!present) return "(absent)";
  std::string rev = s.revision.substr(0, 12);
  return cell(rev.empty() ? s.ref : rev);
}

std::string render(const EnvironmentReview& r, const std::vector<bool>& keep,
                   const std::vector<Row>& rows, size_t omitted, const PrCommentOptions& o) {
  size_t already = 0, differs = 0, cross_created = 0, cross_removed = 0;
  for (const FieldChange& c : r.changes) {
    already += c.live_state == LiveState::kAlreadyHead ? 1 : 0;
    differs += c.live_state == LiveState::kDiffers ? 1 : 0;
  }
  for (const CrossEnvironmentChange& x : r.cross) (x.created ? cross_created : cross_removed)++;

  std::string out = pr_comment_marker(r.environment) + "\n";
  out += "### plumbline: " + cell(r.environment) + " in this pull request\n\n";
  out += cell(r.path) + ": base " + revision_text(r.base, r.in_base) + " → head " +
         revision_text(r.head, r.in_head) + "\n\n";
  if (!r.in_base) out += "This pull request adds the environment.\n\n";
  if (!r.in_head) out += "This pull request removes the environment.\n\n";
  if (r.changes.empty() && r.violations_introduced.empty() && r.violations_fixed.empty() &&
      r.cross.empty()) {
    out += "No in-scope change in this environment.\n\n";
  }
  out +=
      "| fields changed | already live | live differs | violations introduced | violations "
      "fixed | new differences with other environments |\n|---|---|---|---|---|---|\n";
  auto count = [](size_t n) { return std::to_string(n); };
  out += "| " + count(r.changes.size()) + " | " +
         (r.live_read ? count(already) + " | " + count(differs) : std::string("— | —")) + " | " +
         count(r.violations_introduced.size()) + " | " + count(r.violations_fixed.size()) + " | " +
         count(cross_created) + " |\n";

  std::vector<Table> tables(kSections);
  tables[kChanges] = {"Fields this pull request changes",
                      "| object | path | category | type | base | head | live now |\n"
                      "|---|---|---|---|---|---|---|\n",
                      {}};
  tables[kIntroduced] = {"Policy violations this pull request introduces",
                         "| object | rule | path | message | policy | declared at |\n"
                         "|---|---|---|---|---|---|\n",
                         {}};
  tables[kFixed] = {"Policy violations this pull request fixes",
                    "| object | rule | path | message | policy |\n|---|---|---|---|---|\n",
                    {}};
  tables[kCrossCreated] = {"Differences with other environments this pull request creates",
                           "| other environment | object | path | category | type | here | "
                           "there | allowed |\n|---|---|---|---|---|---|---|---|\n",
                           {}};
  tables[kCrossRemoved] = {"Differences with other environments this pull request removes",
                           "| other environment | object | path | category | type |\n"
                           "|---|---|---|---|---|\n",
                           {}};
  // Rows in the review's own order, as far as they are kept.
  std::vector<std::vector<size_t>> kept(kSections);
  for (size_t i = 0; i < rows.size(); ++i) {
    if (keep[i]) kept[rows[i].section].push_back(rows[i].index);
  }
  for (auto& list : kept) std::sort(list.begin(), list.end());
  for (size_t i : kept[kChanges]) {
    const FieldChange& c = r.changes[i];
    const Difference& d = c.change;
    tables[kChanges].rows.push_back("| " + object_cell(d.kind, d.name) + " | " +
                                    (d.path.empty() ? "—" : short_cell(d.path)) + " | " +
                                    (d.path.empty() ? "—" : std::string(to_string(d.category))) +
                                    " | " + std::string(to_string(d.type)) + " | " + value_of(d.a) +
                                    " | " + value_of(d.b) + " | " + live_cell(c) + " |\n");
  }
  auto violation_row = [](const Violation& v, bool with_location) {
    std::string row = "| " + object_cell(v.object.kind, v.object.name) + " | " +
                      short_cell(v.rule) + " | " + short_cell(v.path) + " | " +
                      short_cell(v.message) + " | " + short_cell(v.policy);
    if (with_location) row += " | " + location_cell(v.source);
    return row + " |\n";
  };
  for (size_t i : kept[kIntroduced]) {
    tables[kIntroduced].rows.push_back(violation_row(r.violations_introduced[i], true));
  }
  for (size_t i : kept[kFixed]) {
    tables[kFixed].rows.push_back(violation_row(r.violations_fixed[i], false));
  }
  for (Section s : {kCrossCreated, kCrossRemoved}) {
    for (size_t i : kept[s]) {
      const CrossEnvironmentChange& x = r.cross[i];
      const Difference& d = x.difference;
      std::string row = "| " + short_cell(x.other) + " | " + object_cell(d.kind, d.name) + " | " +
                        (d.path.empty() ? "—" : short_cell(d.path)) + " | " +
                        (d.path.empty() ? "—" : std::string(to_string(d.category))) + " | " +
                        std::string(to_string(d.type));
      if (s == kCrossCreated) {
        row +=
            " | " + value_of(d.a) + " | " + value_of(d.b) + " | " + (d.allowed ? "yes" : "**no**");
      }
      tables[s].rows.push_back(row + " |\n");
    }
  }
  for (Section s : {kChanges, kIntroduced, kFixed, kCrossCreated, kCrossRemoved}) {
    out += table_markdown(tables[s], o.fold_rows);
  }
  if (r.violations_kept > 0) {
    out += "\n" + plural(r.violations_kept, "policy violation stays", "policy violations stay") +
           " as it is at the base.\n";
  }
  if (!r.live_read) {
    out += "\nThe live state was not read (no `--live`).\n";
  } else if (r.other_live_drifts > 0) {
    out += "\nThe cluster also has " +
           plural(r.other_live_drifts, "drifted field", "drifted fields") +
           " that this pull request does not touch (`plumbline diff` lists them).\n";
  }
  if (omitted > 0) {
    out += "\n**" + plural(omitted, "row was", "rows were") +
           " left out** to keep this comment under the forge's limit of " +
           std::to_string(o.max_chars) +
           " characters (the most important are shown; `plumbline pr-comment --dry-run` prints "
           "them all).\n";
  }
  return out;
}

}  // namespace

std::string pr_comment_marker(std::string_view environment) {
  std::string name;
  for (char c : utf8_prefix(environment, 200)) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '/' || c == '-';
    name += ok ? c : '_';
  }
  return "<!-- plumbline:pr-comment env=" + name + " -->";
}

std::string pr_comment_markdown(const EnvironmentReview& r, const PrCommentOptions& o) {
  std::vector<Row> rows;
  for (size_t i = 0; i < r.changes.size(); ++i) rows.push_back({kChanges, i});
  for (size_t i = 0; i < r.violations_introduced.size(); ++i) rows.push_back({kIntroduced, i});
  for (size_t i = 0; i < r.violations_fixed.size(); ++i) rows.push_back({kFixed, i});
  for (size_t i = 0; i < r.cross.size(); ++i) {
    rows.push_back({r.cross[i].created ? kCrossCreated : kCrossRemoved, i});
  }
  std::stable_sort(rows.begin(), rows.end(),
                   [&](const Row& a, const Row& b) { return importance(r, a) < importance(r, b); });
  auto cut = [&](size_t n) {
    std::vector<bool> keep(rows.size(), false);
    std::fill(keep.begin(), keep.begin() + static_cast<long>(n), true);
    return render(r, keep, rows, rows.size() - n, o);
  };
  std::string full = cut(rows.size());
  if (o.max_chars == 0 || full.size() <= o.max_chars) return full;
  // The largest number of rows (by importance) that fits; the size grows with each row.
  size_t lo = 0, hi = rows.size();
  while (lo < hi) {
    size_t mid = lo + (hi - lo + 1) / 2;
    if (cut(mid).size() <= o.max_chars) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  std::string bounded = cut(lo);
  // Even the header does not fit (a tiny limit): cut on a character boundary, never fail.
  if (bounded.size() > o.max_chars) bounded = utf8_prefix(bounded, o.max_chars);
  return bounded;
}

}  // namespace plumbline
