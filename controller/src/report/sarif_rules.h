// report/sarif_rules.h — what each SARIF rule means, for the rule's description and help.
#pragma once

#include <string>
#include <string_view>

namespace plumbline::report_internal {

struct RuleText {
  std::string short_description;
  std::string help;  // plain text; also used as the markdown help
};

RuleText drift_rule_text(std::string_view category, std::string_view type);
RuleText difference_rule_text(std::string_view category);
RuleText policy_rule_text(std::string_view rule);

}  // namespace plumbline::report_internal
