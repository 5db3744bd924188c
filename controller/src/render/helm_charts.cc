// kustomize's `helmCharts` and `helmGlobals`: charts of the repository inflated by helm through
// the same path as `--render helm` (render/helm.h), with kustomize's arguments and values
// (its HelmChartInflationGenerator). A chart kustomize would pull is refused: plumbline reaches
// no chart repository.
#include <set>

#include "plumbline/core/yaml.h"
#include "render/helm.h"
#include "render/kustomize.h"

namespace plumbline::renderer {
namespace {

const std::set<std::string, std::less<>> kChartFields = {
    "name",       "version",      "repo",        "releaseName",           "namespace",
    "valuesFile", "valuesInline", "valuesMerge", "additionalValuesFiles", "includeCRDs",
    "skipHooks",  "skipTests",    "apiVersions", "kubeVersion",           "nameTemplate",
    "devel",      "digest"};

bool is_url(std::string_view text) { return text.find("://") != std::string_view::npos; }

Result<std::string> string_of(const json& entry, const char* key, const std::string& at,
                              const Layer& layer) {
  auto it = entry.find(key);
  if (it == entry.end() || it->is_null()) return std::string();
  if (!it->is_string()) return invalid_input(at + "." + key + ": must be a string", layer.file);
  return it->get<std::string>();
}

Result<bool> bool_of(const json& entry, const char* key, const std::string& at,
                     const Layer& layer) {
  auto it = entry.find(key);
  if (it == entry.end() || it->is_null()) return false;
  if (!it->is_boolean())
    return invalid_input(at + "." + key + ": must be true or false", layer.file);
  return it->get<bool>();
}

// A file named relative to the kustomization, inside the repository and present.
Result<std::string> local_file(const FileTree& tree, const Layer& layer, const std::string& at,
                               const std::string& name) {
  if (is_url(name)) {
    return invalid_input(at + ": remote file '" + name + "' is not supported", layer.file);
  }
  auto joined = join_tree_path(layer.dir, name);
  if (!joined.ok()) {
    return Error(joined.error().code(), at + ": path '" + name + "' leaves the repository root",
                 layer.file);
  }
  auto type = tree.stat(*joined);
  if (!type.ok() || *type != EntryType::kFile) {
    return not_found(at + ": no such file '" + name + "'", layer.file);
  }
  return *joined;
}

// kyaml's merge of values (merge2): mappings key by key, anything else replaced by `winner`;
// a null in `winner` removes the key.
void merge_values(json& base, const json& winner) {
  for (const auto& [key, value] : winner.items()) {
    if (value.is_null()) {
      base.erase(key);
    } else if (value.is_object() && base.contains(key) && base[key].is_object()) {
      merge_values(base[key], value);
    } else {
      base[key] = value;
    }
  }
}

// kustomize writes one values file: the chart's (or valuesFile), merged with valuesInline by
// valuesMerge (override: inline wins; merge: the file wins; replace: inline alone).
Result<ExternalRun::Values> values_of(const FileTree& tree, const Layer& layer,
                                      const std::string& at, const json& entry,
                                      const std::string& values_file) {
  auto inline_values = entry.find("valuesInline");
  bool has_inline =
      inline_values != entry.end() && !inline_values->is_null() && !inline_values->empty();
  if (has_inline && !inline_values->is_object()) {
    return invalid_input(at + ".valuesInline: must be a mapping", layer.file);
  }
  PL_ASSIGN_OR_RETURN(std::string merge, string_of(entry, "valuesMerge", at, layer));
  if (merge.empty()) merge = "override";
  if (merge != "override" && merge != "merge" && merge != "replace") {
    return invalid_input(at + ".valuesMerge: must be one of merge, override, replace", layer.file);
  }
  auto type = tree.stat(values_file);
  if (!type.ok() || *type != EntryType::kFile) {
    return not_found(at + ": no values file '" + values_file + "'", layer.file);
  }
  if (!has_inline) return ExternalRun::Values{values_file, ""};
  if (merge == "replace") return ExternalRun::Values{"", inline_values->dump()};
  PL_ASSIGN_OR_RETURN(std::string text, tree.read_file(values_file));
  PL_ASSIGN_OR_RETURN(auto documents, parse_yaml_documents(text, values_file));
  json file_values =
      documents.empty() || documents[0].value.is_null() ? json::object() : documents[0].value;
  if (!file_values.is_object()) {
    return invalid_input("a values file must be a mapping", values_file);
  }
  json merged = merge == "override" ? file_values : *inline_values;
  merge_values(merged, merge == "override" ? *inline_values : file_values);
  return ExternalRun::Values{"", merged.dump()};
}

Result<ExternalRun> chart_run(const FileTree& tree, const Layer& layer, const std::string& at,
                              const json& entry, const std::string& chart_home) {
  if (!entry.is_object()) return invalid_input(at + ": must be a mapping", layer.file);
  for (const auto& [key, value] : entry.items()) {
    if (!kChartFields.count(key))
      return invalid_input(at + ": unknown field '" + key + "'", layer.file);
  }
  PL_ASSIGN_OR_RETURN(std::string name, string_of(entry, "name", at, layer));
  if (name.empty()) return invalid_input(at + ".name: chart name cannot be empty", layer.file);
  PL_ASSIGN_OR_RETURN(std::string version, string_of(entry, "version", at, layer));
  PL_ASSIGN_OR_RETURN(std::string repo, string_of(entry, "repo", at, layer));
  ExternalRun run;
  run.kind = ExternalRun::Kind::kHelm;
  // kustomize's chart folder: chartHome/name, or chartHome/name-version/name for a versioned
  // chart of a repository.
  std::string home = chart_home;
  if (!version.empty() && !repo.empty()) home += "/" + name + "-" + version;
  auto dir = join_tree_path(layer.dir, home + "/" + name);
  if (!dir.ok()) {
    return Error(dir.error().code(), at + ": chart '" + name + "' leaves the repository root",
                 layer.file);
  }
  auto type = tree.stat(*dir);
  if (!type.ok() || *type != EntryType::kDirectory) {
    if (repo.empty()) {
      return not_found(at + ": no chart found at '" + *dir + "' and no repo to pull it from",
                       layer.file);
    }
    return invalid_input(at + ": chart '" + name + "' is not in the repository at '" + *dir +
                             "'; plumbline does not pull charts from '" + repo +
                             "' (commit the chart there, e.g. with helm pull --untar)",
                         layer.file);
  }
  run.chart_dir = *dir;
  PL_ASSIGN_OR_RETURN(run.release_name, string_of(entry, "releaseName", at, layer));
  if (run.release_name.empty()) {
    return invalid_input(at + ".releaseName: required (without it kustomize has helm make up "
                              "a random release name, so no two renders would agree)",
                         layer.file);
  }
  PL_ASSIGN_OR_RETURN(run.namespace_name, string_of(entry, "namespace", at, layer));
  PL_ASSIGN_OR_RETURN(std::string values_file, string_of(entry, "valuesFile", at, layer));
  if (values_file.empty()) {
    values_file = run.chart_dir + "/values.yaml";
  } else {
    PL_ASSIGN_OR_RETURN(values_file, local_file(tree, layer, at + ".valuesFile", values_file));
  }
  PL_ASSIGN_OR_RETURN(ExternalRun::Values values, values_of(tree, layer, at, entry, values_file));
  run.values.push_back(std::move(values));
  if (auto extra = entry.find("additionalValuesFiles"); extra != entry.end() && !extra->is_null()) {
    if (!extra->is_array())
      return invalid_input(at + ".additionalValuesFiles: must be a list", layer.file);
    for (size_t i = 0; i < extra->size(); ++i) {
      std::string where = at + ".additionalValuesFiles[" + std::to_string(i) + "]";
      if (!(*extra)[i].is_string()) return invalid_input(where + ": must be a string", layer.file);
      PL_ASSIGN_OR_RETURN(std::string file, local_file(tree, layer, where, (*extra)[i]));
      run.values.push_back({file, ""});
    }
  }
  PL_ASSIGN_OR_RETURN(std::string name_template, string_of(entry, "nameTemplate", at, layer));
  if (!name_template.empty()) run.flags.insert(run.flags.end(), {"--name-template", name_template});
  if (auto versions = entry.find("apiVersions"); versions != entry.end() && !versions->is_null()) {
    if (!versions->is_array())
      return invalid_input(at + ".apiVersions: must be a list", layer.file);
    for (const json& api : *versions) {
      if (!api.is_string())
        return invalid_input(at + ".apiVersions: must hold strings", layer.file);
      run.flags.insert(run.flags.end(), {"--api-versions", api.get<std::string>()});
    }
  }
  PL_ASSIGN_OR_RETURN(std::string kube_version, string_of(entry, "kubeVersion", at, layer));
  if (!kube_version.empty()) run.flags.insert(run.flags.end(), {"--kube-version", kube_version});
  for (auto [key, flag] :
       {std::pair{"includeCRDs", "--include-crds"}, std::pair{"skipTests", "--skip-tests"},
        std::pair{"skipHooks", "--no-hooks"}}) {
    PL_ASSIGN_OR_RETURN(bool set, bool_of(entry, key, at, layer));
    if (set) run.flags.push_back(flag);
  }
  return run;
}

}  // namespace

Status inflate_helm_charts(const FileTree& tree, const Layer& layer, Resources& resources) {
  auto charts = layer.spec.find("helmCharts");
  if (charts == layer.spec.end() || charts->is_null()) return {};
  std::string chart_home = "charts";
  if (auto globals = layer.spec.find("helmGlobals");
      globals != layer.spec.end() && !globals->is_null()) {
    if (!globals->is_object()) return invalid_input("helmGlobals: must be a mapping", layer.file);
    for (const auto& [key, value] : globals->items()) {
      // configHome is where helm keeps repositories and plugins: plumbline gives helm an empty
      // one of its own, whatever is named here.
      if (key != "chartHome" && key != "configHome") {
        return invalid_input("helmGlobals: unknown field '" + key + "'", layer.file);
      }
    }
    PL_ASSIGN_OR_RETURN(std::string home, string_of(*globals, "chartHome", "helmGlobals", layer));
    if (!home.empty()) chart_home = home;
  }
  for (size_t i = 0; i < charts->size(); ++i) {
    std::string at = "helmCharts[" + std::to_string(i) + "]";
    PL_ASSIGN_OR_RETURN(ExternalRun run, chart_run(tree, layer, at, (*charts)[i], chart_home));
    auto objects = run_helm(tree, run, layer.external);
    if (!objects.ok()) return std::move(objects).error().context(layer.file + ": " + at);
    for (Manifest& manifest : *objects) {
      Resource resource{std::move(manifest), {}, false};
      resource.manifest.base_name = name_of(resource.manifest.object);
      remember_id(resource);
      resources.push_back(std::move(resource));
    }
  }
  return {};
}

}  // namespace plumbline::renderer
