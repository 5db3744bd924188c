// The projection schema: which fields of an object the LiveCache keeps. Derived from the field
// table (core/field_table.h) for the categories in scope, so a field compared by the diff is
// a field kept by the cache.
#include "cache/projection_walk.h"
#include "plumbline/core/field_table.h"

namespace plumbline {
namespace {

using Node = ProjectionNode;

Node all(std::string_view name) { return Node{name, Node::Kind::kAll, {}, false, false}; }
Node filter(std::string_view name, std::vector<Node> children, bool keep_empty = false) {
  return Node{name, Node::Kind::kFilter, std::move(children), keep_empty, false};
}

}  // namespace

const Node& Projector::Schema::spec_for(std::string_view kind) const {
  if (kind.empty()) return spec_unknown;
  if (kind == "Pod") return spec_pod;
  if (kind == "CronJob") return spec_cronjob;
  return spec_template;
}

const Node& Projector::Schema::fields_for(std::string_view kind) const {
  if (kind.empty()) return fields_unknown;
  if (kind == "Pod") return fields_pod;
  if (kind == "CronJob") return fields_cronjob;
  return fields_template;
}

const Node* Projector::Schema::kept_metadata(std::string_view name) const {
  if (whole) return &object_metadata;  // a kAll node: any field, copied whole
  return object_metadata.child(name);
}

std::shared_ptr<const Projector::Schema> build_schema(const bool (&in)[16]) {
  // The in-scope fields of one level of the field table (core/field_table.h), copied whole.
  auto kept = [&](FieldLevel level) {
    std::vector<Node> out;
    for (const ComparedField& f : compared_fields(level)) {
      if (in[static_cast<size_t>(f.category)]) out.push_back(all(f.name));
    }
    return out;
  };
  // A pod spec's or container's fields, with their securityContext's in a filter.
  auto owned = [&](std::vector<Node> out, FieldLevel security) {
    std::vector<Node> context = kept(security);
    if (!context.empty()) out.push_back(filter(kSecurityContext, std::move(context)));
    return out;
  };

  std::vector<Node> container;
  Node name = all(kContainerKey);
  name.object_only = true;
  container.push_back(name);
  container = owned(container, FieldLevel::kContainerSecurity);
  for (Node& n : kept(FieldLevel::kContainer)) container.push_back(std::move(n));

  std::vector<Node> pod = owned(kept(FieldLevel::kPod), FieldLevel::kPodSecurity);
  for (std::string_view list : container_lists()) {
    pod.push_back(Node{list, Node::Kind::kList, container, false, false});
  }
  std::vector<Node> metadata = kept(FieldLevel::kMetadata);

  // spec.template {metadata.labels, spec}
  std::vector<Node> tmpl;
  if (!metadata.empty()) tmpl.push_back(filter("metadata", metadata));
  tmpl.push_back(filter("spec", pod, /*keep_empty=*/true));
  Node template_node = filter("template", tmpl);
  Node job_template = filter("jobTemplate", {filter("spec", {template_node})});

  auto schema = std::make_shared<Projector::Schema>();
  std::vector<Node> replicas = kept(FieldLevel::kObjectSpec);

  std::vector<Node> spec = replicas;  // Pod: the spec is the pod spec
  spec.insert(spec.end(), pod.begin(), pod.end());
  schema->spec_pod = filter("spec", spec, true);
  spec = replicas;
  spec.push_back(job_template);
  schema->spec_cronjob = filter("spec", spec);
  spec = replicas;
  spec.push_back(template_node);
  schema->spec_template = filter("spec", spec);
  spec = replicas;
  spec.insert(spec.end(), pod.begin(), pod.end());
  spec.push_back(template_node);
  spec.push_back(job_template);
  schema->spec_unknown = filter("spec", spec, true);

  schema->metadata_fields = filter("metadata", metadata);
  // Labels are always kept (environment membership, policy selectors); other metadata fields
  // of the table when in scope.
  schema->object_metadata = filter("metadata", {all("labels")});
  for (const Node& n : metadata) {
    if (schema->object_metadata.child(n.name) == nullptr)
      schema->object_metadata.children.push_back(n);
  }
  auto fields = [&](const Node& spec_node) {
    return filter("", {schema->metadata_fields, spec_node});
  };
  schema->fields_pod = fields(schema->spec_pod);
  schema->fields_cronjob = fields(schema->spec_cronjob);
  schema->fields_template = fields(schema->spec_template);
  schema->fields_unknown = fields(schema->spec_unknown);
  return schema;
}

std::shared_ptr<const Projector::Schema> whole_object_schema() {
  auto schema = std::make_shared<Projector::Schema>();
  schema->whole = true;
  for (Node* spec :
       {&schema->spec_pod, &schema->spec_cronjob, &schema->spec_template, &schema->spec_unknown}) {
    *spec = all("spec");
  }
  schema->object_metadata = all("metadata");
  return schema;
}

}  // namespace plumbline
