// Markdown for pull-request comments: a summary table and per-object <details> blocks.
#include <map>
#include <vector>

#include "report/internal.h"

namespace plumbline::report_internal {

// A value inside a table cell: backticks, with the cell separator and newlines escaped.
std::string cell(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '|') {
      out += "\\|";
    } else if (c == '\n') {
      out += ' ';
    } else if (c == '`') {
      out += '\'';  // a backtick would end the code span early
    } else {
      out += c;
    }
  }
  return "`" + out + "`";
}

std::string value_cell(const json& v) { return v.is_null() ? "—" : cell(value_text(v)); }

// Where Git declares the field: the file and line that last set it.
std::string location_cell(const SourceLocation& at) {
  return at.known() ? cell(at.to_string()) : "—";
}

std::string drift_markdown(const DriftReport& r, const Totals& t) {
  std::string out = "### plumbline: `" + r.environment + "`";
  if (!r.source.revision.empty()) out += " @ `" + r.source.revision.substr(0, 12) + "`";
  out += "\n\n";
  if (!r.policy_source.path.empty()) {
    out += "Policies from Git: " + cell(r.policy_source.path) + " @ " +
           cell(r.policy_source.revision.substr(0, 12)) + "\n\n";
  }
  if (r.desired_only) {
    out += t.violations == 0 ? "The desired state meets its policies.\n\n"
                             : "Policy violations in the desired state.\n\n";
    out += "| objects | violations |\n|---|---|\n| " + std::to_string(t.objects) + " | " +
           std::to_string(t.violations) + " |\n";
  } else {
    out += (t.drifts == 0 && t.violations == 0) ? "No drift, no policy violations.\n\n"
                                                : "Drift or policy violations found.\n\n";
    out += "| objects | drifted | drifts | violations | ignored |\n|---|---|---|---|---|\n";
    out += "| " + std::to_string(t.objects) + " | " + std::to_string(t.drifted) + " | " +
           std::to_string(t.drifts) + " | " + std::to_string(t.violations) + " | " +
           std::to_string(t.ignored) + " |\n";
  }
  struct Group {
    std::vector<const Drift*> drifts;
    std::vector<const Violation*> violations;
  };
  std::map<ObjectRef, Group> groups;
  for (const auto& d : r.drifts) groups[d.object].drifts.push_back(&d);
  for (const auto& v : r.violations) groups[v.object].violations.push_back(&v);
  for (const auto& [ref, g] : groups) {
    size_t active = 0;
    for (const Drift* d : g.drifts) active += d->action == Action::kIgnored ? 0 : 1;
    out += "\n<details><summary>" + ref.to_string() + " — " + plural(active, "drift", "drifts") +
           ", " + plural(g.violations.size(), "violation", "violations") + "</summary>\n\n";
    if (!g.drifts.empty()) {
      out +=
          "| path | category | type | Git | live | action | declared at |\n"
          "|---|---|---|---|---|---|---|\n";
      for (const Drift* d : g.drifts) {
        std::string action(to_string(d->action));
        if (!d->live_manager.empty()) action += " (" + d->live_manager + ")";
        out += "| " + cell(d->path) + " | " + std::string(to_string(d->category)) + " | " +
               std::string(to_string(d->type)) + " | " + value_cell(d->desired) + " | " +
               value_cell(d->live) + " | " + action + " | " + location_cell(d->source) + " |\n";
      }
    }
    if (!g.violations.empty()) {
      if (!g.drifts.empty()) out += "\n";
      out +=
          "| rule | path | message | state | policy | declared at |\n"
          "|---|---|---|---|---|---|\n";
      for (const Violation* v : g.violations) {
        out += "| " + v->rule + " | " + cell(v->path) + " | " + cell(v->message) + " | " +
               std::string(to_string(v->state)) + " | " + v->policy + " | " +
               location_cell(v->source) + " |\n";
      }
    }
    out += "\n</details>\n";
  }
  if (t.omitted_drifts + t.omitted_violations > 0) {
    out += "\n…and " + std::to_string(t.omitted_drifts) + " more drifts and " +
           std::to_string(t.omitted_violations) + " more violations not shown\n";
  }
  if (!r.uncompared.empty()) {
    out += "\n**Not compared** (" + plural(r.uncompared.size(), "object", "objects") +
           "):\n\n| object | reason |\n|---|---|\n";
    for (const auto& u : r.uncompared) {
      out += "| " + cell(u.object.to_string()) + " | " + cell(u.reason) + " |\n";
    }
  }
  if (!r.warnings.empty()) out += "\n";
  for (const auto& warning : r.warnings) out += "- **Warning:** " + cell(warning) + "\n";
  return out;
}

std::string comparison_markdown(const EnvironmentComparison& c, const ComparisonTotals& t) {
  std::string out = "### plumbline: `" + c.env_a + "` vs `" + c.env_b + "`\n\n";
  out += "| objects (" + c.env_a + ") | objects (" + c.env_b +
         ") | differences | not allowed | violations |\n|---|---|---|---|---|\n";
  out += "| " + std::to_string(c.objects_a) + " | " + std::to_string(c.objects_b) + " | " +
         std::to_string(t.differences) + " | " + std::to_string(t.not_allowed) + " | " +
         std::to_string(t.violations) + " |\n";
  std::map<std::pair<std::string, std::string>, std::vector<const Difference*>> groups;
  for (const auto& d : c.differences) groups[{d.kind, d.name}].push_back(&d);
  for (const auto& [key, diffs] : groups) {
    out += "\n<details><summary>" + key.first + " " + key.second + " — " +
           plural(diffs.size(), "difference", "differences") + "</summary>\n\n";
    out += "| path | category | type | " + c.env_a + " | " + c.env_b +
           " | allowed |\n|---|---|---|---|---|---|\n";
    for (const Difference* d : diffs) {
      out += "| " + cell(d->path) + " | " + std::string(to_string(d->category)) + " | " +
             std::string(to_string(d->type)) + " | " + value_cell(d->a) + " | " + value_cell(d->b) +
             " | " + (d->allowed ? "yes" : "**no**") + " |\n";
    }
    out += "\n</details>\n";
  }
  if (!c.violations.empty()) {
    out += "\n| object | rule | path | message | policy |\n|---|---|---|---|---|\n";
    for (const auto& v : c.violations) {
      out += "| " + v.object.to_string() + " | " + v.rule + " | " + cell(v.path) + " | " +
             cell(v.message) + " | " + v.policy + " |\n";
    }
  }
  if (t.omitted_differences + t.omitted_violations > 0) {
    out += "\n…and " + std::to_string(t.omitted_differences + t.omitted_violations) +
           " more findings not shown\n";
  }
  if (!c.warnings.empty()) out += "\n";
  for (const auto& warning : c.warnings) out += "- **Warning:** " + cell(warning) + "\n";
  return out;
}

}  // namespace plumbline::report_internal
