// Terminal / CI text: a header, findings grouped per object as diff-style lines, a verdict.
#include <map>
#include <set>
#include <vector>

#include "report/internal.h"

namespace plumbline::report_internal {
namespace {

struct Style {
  bool color;
  std::string paint(const char* code, const std::string& text) const {
    return color ? std::string("\033[") + code + "m" + text + "\033[0m" : text;
  }
  std::string red(const std::string& t) const { return paint("31", t); }
  std::string green(const std::string& t) const { return paint("32", t); }
  std::string yellow(const std::string& t) const { return paint("33", t); }
  std::string bold(const std::string& t) const { return paint("1", t); }
  std::string dim(const std::string& t) const { return paint("2", t); }
};

std::string short_sha(const std::string& revision) { return revision.substr(0, 12); }

// Live values come from whoever wrote the object: a control character (an escape sequence
// that recolours or clears the terminal, a newline that forges a report line) is shown
// escaped, never sent to the terminal as it is.
std::string printable(const std::string& text) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (byte < 0x20 || byte == 0x7f) {
      out += std::string("\\x") + kHex[byte >> 4] + kHex[byte & 0xf];
    } else {
      out += c;
    }
  }
  return out;
}

std::string value_line(const json& value) { return printable(value_text(value)); }

void drift_lines(std::string& out, const Drift& d, const Style& s) {
  std::string where = d.path.empty() ? "(whole object)" : printable(d.path);
  out += "  " + where + "  [" + std::string(to_string(d.category)) + ", " +
         std::string(to_string(d.type)) + "]";
  if (d.action != Action::kReport) out += " " + std::string(to_string(d.action));
  out += "\n";
  if (!d.desired.is_null()) out += "    " + s.red("- " + value_line(d.desired)) + "\n";
  if (!d.live.is_null()) out += "    " + s.green("+ " + value_line(d.live)) + "\n";
  if (!d.live_manager.empty()) {
    out += "    changed by " + printable(d.live_manager);
    if (!d.live_changed_at.empty()) out += " at " + printable(d.live_changed_at);
    out += "\n";
  }
  if (d.source.known()) out += "    declared at " + d.source.to_string() + "\n";
}

void violation_lines(std::string& out, const Violation& v, const Style& s) {
  out += "  " + s.yellow("! " + v.rule + ": " + printable(v.message)) + "  (" +
         std::string(to_string(v.state)) + ", policy " + v.policy + ")\n";
  // A rule on a whole namespace has no field and, on the live side, no line: no empty "at".
  if (v.path.empty() && !v.source.known()) return;
  std::string where = printable(v.path);
  if (v.source.known()) {
    where += (where.empty() ? "" : " ") + ("(" + v.source.to_string() + ")");
  }
  out += "    at " + where + "\n";
}

}  // namespace

std::string drift_text(const DriftReport& r, const Totals& t, const FormatOptions& o) {
  Style s{o.color};
  std::string out = s.bold("plumbline: environment " + r.environment);
  if (!r.source.revision.empty()) out += " @ " + short_sha(r.source.revision);
  if (!r.source.ref.empty() || !r.source.path.empty()) {
    out += " (" + r.source.ref + (r.source.path.empty() ? "" : ", " + r.source.path) + ")";
  }
  if (!r.policy_source.path.empty()) {
    out += "\npolicies from Git: " + printable(r.policy_source.path) + " @ " +
           short_sha(r.policy_source.revision);
  }
  if (r.desired_only) {
    out += "\ndesired state only: " + plural(t.objects, "object", "objects") + ", " +
           plural(t.violations, "violation", "violations") + "\n";
  } else {
    out += "\n" + plural(t.objects, "object", "objects") + ", " + std::to_string(t.drifted) +
           " drifted, " + plural(t.drifts, "drift", "drifts") + ", " +
           plural(t.violations, "violation", "violations") + ", " + std::to_string(t.ignored) +
           " ignored\n";
  }

  // Group per object; std::map gives a stable, sorted order.
  struct Group {
    std::vector<const Drift*> drifts, ignored;
    std::vector<const Violation*> violations;
  };
  std::map<ObjectRef, Group> groups;
  for (const auto& d : r.drifts) {
    (d.action == Action::kIgnored ? groups[d.object].ignored : groups[d.object].drifts)
        .push_back(&d);
  }
  for (const auto& v : r.violations) groups[v.object].violations.push_back(&v);
  for (const auto& [ref, g] : groups) {
    if (g.drifts.empty() && g.violations.empty()) continue;
    out += "\n" + s.bold(printable(ref.to_string())) + "\n";
    for (const Violation* v : g.violations) violation_lines(out, *v, s);
    for (const Drift* d : g.drifts) drift_lines(out, *d, s);
  }
  bool any_ignored = false;
  for (const auto& [ref, g] : groups) {
    for (const Drift* d : g.ignored) {
      if (!any_ignored) out += "\n" + s.dim("Ignored by policy:") + "\n";
      any_ignored = true;
      out += s.dim("  " + printable(ref.to_string()) + " " + printable(d->path) + " (" +
                   d->ignored_by + ")") +
             "\n";
    }
  }
  if (t.omitted_violations > 0) {
    out += "\n…and " + std::to_string(t.omitted_violations) + " more violations not shown\n";
  }
  if (t.omitted_drifts > 0) {
    out += "\n…and " + std::to_string(t.omitted_drifts) + " more drifts not shown\n";
  }
  if (!r.uncompared.empty()) {
    out += "\n" +
           s.yellow("Not compared (" + plural(r.uncompared.size(), "object", "objects") + "):") +
           "\n";
    for (const auto& u : r.uncompared) {
      out += "  " + printable(u.object.to_string()) + ": " + printable(u.reason) + "\n";
    }
  }
  for (const auto& warning : r.warnings) {
    out += (&warning == &r.warnings.front() ? "\n" : "") + s.yellow("warning: ") +
           printable(warning) + "\n";
  }
  out += "\n";
  if (r.desired_only) {
    std::set<ObjectRef> violating;
    for (const auto& v : r.violations) violating.insert(v.object);
    out += t.violations == 0
               ? s.green("OK: the desired state of " + r.environment + " meets its policies (" +
                         plural(t.objects, "object", "objects") + ")") +
                     "\n"
               : s.red("VIOLATIONS: " + plural(t.violations, "violation", "violations") + " in " +
                       plural(violating.size(), "object", "objects")) +
                     "\n";
    return out;
  }
  if (t.drifts == 0 && t.violations == 0) {
    std::string not_compared =
        r.uncompared.empty() ? "" : ", " + std::to_string(r.uncompared.size()) + " not compared";
    out += s.green("OK: " + r.environment + " matches Git (" +
                   plural(t.objects, "object", "objects") + not_compared + ")") +
           "\n";
  } else {
    out += s.red("DRIFT: " + plural(t.drifts, "drift", "drifts") + " in " +
                 plural(t.drifted, "object", "objects") + ", " +
                 plural(t.violations, "violation", "violations")) +
           "\n";
  }
  return out;
}

std::string comparison_text(const EnvironmentComparison& c, const ComparisonTotals& t,
                            const FormatOptions& o) {
  Style s{o.color};
  std::string out = s.bold("plumbline: " + c.env_a + " vs " + c.env_b) + "\n";
  out += std::to_string(c.objects_a) + " / " + std::to_string(c.objects_b) + " objects, " +
         plural(t.differences, "difference", "differences") + " (" + std::to_string(t.allowed) +
         " allowed), " + plural(t.violations, "violation", "violations") + "\n";
  std::map<std::pair<std::string, std::string>, std::vector<const Difference*>> groups;
  for (const auto& d : c.differences) groups[{d.kind, d.name}].push_back(&d);
  for (const auto& [key, diffs] : groups) {
    out += "\n" + s.bold(key.first + " " + key.second) + "\n";
    for (const Difference* d : diffs) {
      std::string line = "  " + (d->path.empty() ? "(whole object)" : d->path) + "  [" +
                         std::string(to_string(d->category)) + ", " +
                         std::string(to_string(d->type)) + "]" + (d->allowed ? " allowed" : "");
      out += (d->allowed ? s.dim(line) : line) + "\n";
      out += "    " + s.red("- " + c.env_a + ": " + value_line(d->a)) + "\n";
      out += "    " + s.green("+ " + c.env_b + ": " + value_line(d->b)) + "\n";
    }
  }
  if (!c.violations.empty()) out += "\n";
  for (const auto& v : c.violations) {
    out += v.object.to_string() + "\n";
    violation_lines(out, v, s);
  }
  if (t.omitted_differences + t.omitted_violations > 0) {
    out += "\n…and " + std::to_string(t.omitted_differences + t.omitted_violations) +
           " more findings not shown\n";
  }
  for (const auto& warning : c.warnings) {
    out += (&warning == &c.warnings.front() ? "\n" : "") + s.yellow("warning: ") +
           printable(warning) + "\n";
  }
  out += "\n";
  if (t.not_allowed == 0 && t.violations == 0) {
    out +=
        s.green("OK: " + c.env_a + " and " + c.env_b + " differ only where policies allow") + "\n";
  } else {
    out += s.red("DIFFERENT: " + std::to_string(t.not_allowed) + " not allowed, " +
                 plural(t.violations, "violation", "violations")) +
           "\n";
  }
  return out;
}

}  // namespace plumbline::report_internal
