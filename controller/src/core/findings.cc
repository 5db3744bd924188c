#include "plumbline/core/findings.h"

#include <array>

namespace plumbline {
namespace {

constexpr std::array<std::pair<Category, std::string_view>, 10> kCategories = {{
    {Category::kResources, "resources"},
    {Category::kEnv, "env"},
    {Category::kSelinux, "selinux"},
    {Category::kSeccomp, "seccomp"},
    {Category::kCapabilities, "capabilities"},
    {Category::kIdentity, "identity"},
    {Category::kRuntime, "runtime"},
    {Category::kImage, "image"},
    {Category::kReplicas, "replicas"},
    {Category::kLabels, "labels"},
}};

}  // namespace

std::string_view to_string(Category category) {
  for (const auto& [c, name] : kCategories) {
    if (c == category) return name;
  }
  return "unknown";
}

std::optional<Category> parse_category(std::string_view text) {
  for (const auto& [c, name] : kCategories) {
    if (name == text) return c;
  }
  return std::nullopt;
}

std::vector<Category> default_scope() {
  return {Category::kResources,    Category::kEnv,      Category::kSelinux, Category::kSeccomp,
          Category::kCapabilities, Category::kIdentity, Category::kRuntime};
}

std::vector<Category> all_categories() {
  std::vector<Category> out;
  for (const auto& entry : kCategories) out.push_back(entry.first);
  return out;
}

std::string_view to_string(DriftType type) {
  switch (type) {
    case DriftType::kChanged:
      return "changed";
    case DriftType::kMissing:
      return "missing";
    case DriftType::kExtra:
      return "extra";
    case DriftType::kObjectMissing:
      return "object-missing";
    case DriftType::kObjectExtra:
      return "object-extra";
  }
  return "unknown";
}

std::string_view to_string(Action action) {
  switch (action) {
    case Action::kReport:
      return "report";
    case Action::kIgnored:
      return "ignored";
    case Action::kWouldCorrect:
      return "would-correct";
    case Action::kCorrected:
      return "corrected";
    case Action::kFailed:
      return "failed";
    case Action::kContested:
      return "contested";
  }
  return "unknown";
}

std::string_view to_string(StateSide side) {
  return side == StateSide::kDesired ? "desired" : "live";
}

std::string_view to_string(DifferenceType type) {
  switch (type) {
    case DifferenceType::kChanged:
      return "changed";
    case DifferenceType::kOnlyInA:
      return "only-in-a";
    case DifferenceType::kOnlyInB:
      return "only-in-b";
  }
  return "unknown";
}

}  // namespace plumbline
