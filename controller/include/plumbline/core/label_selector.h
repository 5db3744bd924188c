// plumbline/core/label_selector.h — Kubernetes label selectors (matchLabels, matchExpressions).
//
// Used for a PodDisruptionBudget's spec.selector, a NetworkPolicy's podSelector and a
// ConsistencyPolicy's spec.environmentSelector.
//
//   PL_ASSIGN_OR_RETURN(auto selector, LabelSelector::from_json(spec["selector"], "pdb.yaml"));
//   if (selector.matches(labels)) ...
#pragma once

#include <map>
#include <string>
#include <vector>

#include "plumbline/core/error.h"
#include "plumbline/core/object.h"

namespace plumbline {

using Labels = std::map<std::string, std::string>;

struct LabelSelector {
  enum class Op { kIn, kNotIn, kExists, kDoesNotExist };
  struct Requirement {
    std::string key;
    Op op = Op::kIn;
    std::vector<std::string> values;
  };
  std::vector<Requirement> requirements;  // matchLabels become In requirements with one value

  // {} (or no requirements) selects everything, as in the API.
  bool empty() const { return requirements.empty(); }
  bool matches(const Labels& labels) const;

  // Errors (unknown operator, values with Exists, a non-string label) name `where` and the
  // field.
  static Result<LabelSelector> from_json(const json& selector, const std::string& where);
};

// metadata.labels of an object (non-string values are left out).
Labels labels_of(const json& metadata);

}  // namespace plumbline
