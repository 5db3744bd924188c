// RestKubeClient's verbs: discovery (cached per group/version), get, list, watch (a chunked
// stream read line by line), apply, patch, create, update; and make_kube_client.
#include <cpprest/rawptrstream.h>
#include <cpprest/streams.h>

#include "kube/rest_client.h"
#include "plumbline/core/utf8.h"

namespace plumbline {
namespace rest {

Result<ApiResource> RestKubeClient::resource_for(std::string_view api_version,
                                                 std::string_view kind) {
  std::string gv(api_version);
  {
    std::lock_guard lock(discovery_mu_);
    auto it = discovery_.find(gv);
    if (it != discovery_.end()) {
      for (const ApiResource& r : it->second) {
        if (r.kind == kind) return r;
      }
      return not_found("the server has no kind " + std::string(kind) + " in " + gv, config_.server);
    }
  }
  size_t slash = gv.find('/');
  std::string group = slash == std::string::npos ? "" : gv.substr(0, slash);
  std::string version = slash == std::string::npos ? gv : gv.substr(slash + 1);
  CallSpec spec{.verb = "discovery",
                .method = http::methods::GET,
                .path = group.empty() ? "/api/" + version : "/apis/" + gv};
  Result<std::string> body = call(spec);
  if (!body.ok()) {
    if (body.error().code() == ErrorCode::kNotFound) {
      return not_found(
          "the server does not serve " + gv + " (looking up kind " + std::string(kind) + ")",
          config_.server);
    }
    return std::move(body).error();
  }
  json list = json::parse(*body, nullptr, false);
  if (!list.is_object() || !list.contains("resources") || !list["resources"].is_array()) {
    return Error(ErrorCode::kUnavailable,
                 "discovery of " + gv + " returned no resource list: " + status_message(*body),
                 config_.server);
  }
  std::vector<ApiResource> resources;
  for (const json& r : list["resources"]) {
    std::string name = r.value("name", std::string());
    if (name.empty() || name.find('/') != std::string::npos) continue;  // subresources
    ApiResource resource{.group = group,
                         .version = version,
                         .kind = r.value("kind", std::string()),
                         .resource = name,
                         .namespaced = r.value("namespaced", false)};
    if (r.contains("verbs") && r["verbs"].is_array()) {
      for (const json& v : r["verbs"]) {
        if (v.is_string()) resource.verbs.push_back(v.get<std::string>());
      }
    }
    resources.push_back(std::move(resource));
  }
  std::lock_guard lock(discovery_mu_);
  auto& cached = discovery_[gv] = std::move(resources);
  for (const ApiResource& r : cached) {
    if (r.kind == kind) return r;
  }
  return not_found("the server has no kind " + std::string(kind) + " in " + gv, config_.server);
}

Result<std::string> RestKubeClient::get(const ApiResource& resource, std::string_view ns,
                                        std::string_view name, const Cancellation* cancel) {
  CallSpec spec{.verb = "get",
                .method = http::methods::GET,
                .resource = &resource,
                .ns = std::string(ns),
                .name = std::string(name),
                .path = resource_path(resource, ns, name, "")};
  return call(spec, cancel);
}

Result<std::string> RestKubeClient::list(const ApiResource& resource, std::string_view ns,
                                         const ListOptions& options, const Cancellation* cancel) {
  CallSpec spec{.verb = "list",
                .method = http::methods::GET,
                .resource = &resource,
                .ns = std::string(ns),
                .path = resource_path(resource, ns, "", "")};
  if (options.limit > 0) add_query(spec.path, "limit", std::to_string(options.limit));
  if (!options.continue_token.empty()) add_query(spec.path, "continue", options.continue_token);
  if (!options.resource_version.empty()) {
    add_query(spec.path, "resourceVersion", options.resource_version);
  }
  if (!options.label_selector.empty())
    add_query(spec.path, "labelSelector", options.label_selector);
  if (!options.field_selector.empty())
    add_query(spec.path, "fieldSelector", options.field_selector);
  PL_ASSIGN_OR_RETURN(std::string body, call(spec, cancel));
  body.reserve(body.size() + 64);  // simdjson's padding, so the LiveCache parses in place
  return body;
}

Status RestKubeClient::watch(const ApiResource& resource, std::string_view ns,
                             const WatchOptions& options,
                             const std::function<bool(std::string& line)>& on_event,
                             const Cancellation& cancel) {
  CallSpec spec{.verb = "watch",
                .method = http::methods::GET,
                .resource = &resource,
                .ns = std::string(ns),
                .path = resource_path(resource, ns, "", "")};
  add_query(spec.path, "watch", "1");
  if (!options.resource_version.empty()) {
    add_query(spec.path, "resourceVersion", options.resource_version);
  }
  if (options.allow_bookmarks) add_query(spec.path, "allowWatchBookmarks", "true");
  if (!options.label_selector.empty())
    add_query(spec.path, "labelSelector", options.label_selector);
  add_query(spec.path, "timeoutSeconds", std::to_string(options.timeout.count()));

  PL_ASSIGN_OR_RETURN(std::string token, current_bearer_token(config_));
  http::http_request request = make_request(spec);
  if (!token.empty()) {
    request.headers().add(U("Authorization"), utility::conversions::to_string_t("Bearer " + token));
  }
  // A client of its own: cpprestsdk's timeout is per read, and a quiet watch may go without
  // bytes for a while (bookmarks come about once a minute).
  auto timeout =
      std::chrono::duration_cast<std::chrono::milliseconds>(options.timeout) + options_.timeout;
  auto client = std::make_shared<http::client::http_client>(server_uri(), client_config(timeout));
  pplx::cancellation_token_source cts;
  const Clock::time_point deadline = Clock::now() + timeout;

  const CallContext context = context_of(spec);
  const AwaitLimits limits{
      .deadline = deadline,
      .cancel = &cancel,
      .abort =
          [&] {
            cts.cancel();
            client.reset();  // closes the connection, which ends a pending read
          },
      .cancelled_message = "watch cancelled",
      .timeout_message = "cannot " + describe_call("watch", resource, ns, "") +
                         ": no event within " + std::to_string(timeout.count()) + " ms"};
  auto await = [&](auto task) { return await_task(task, context, limits); };

  Result<http::http_response> response = await(client->request(request, cts.get_token()));
  if (!response.ok()) {
    count("watch", 0);
    return std::move(response).error();
  }
  int status = response->status_code();
  count("watch", status);
  if (status < 200 || status >= 300) {
    Result<std::string> body = await(response->extract_utf8string(true));
    return api_error(status, body.ok() ? *body : "", "watch", resource, ns, "", config_.server);
  }
  concurrency::streams::istream stream = response->body();
  // Each read ends at the idle limit when that comes before the watch's own deadline.
  AwaitLimits idle_limits = limits;
  idle_limits.timeout_message = "cannot " + describe_call("watch", resource, ns, "") +
                                ": nothing received for " +
                                std::to_string(options.idle_timeout.count()) +
                                " ms, not even a bookmark (a connection stuck open)";
  while (true) {
    const bool idle_first =
        options.idle_timeout.count() > 0 && Clock::now() + options.idle_timeout < deadline;
    if (idle_first) idle_limits.deadline = Clock::now() + options.idle_timeout;
    concurrency::streams::container_buffer<std::string> buffer;
    Result<size_t> read =
        await_task(stream.read_line(buffer), context, idle_first ? idle_limits : limits);
    if (!read.ok()) return std::move(read).error();
    std::string& line = buffer.collection();
    if (*read == 0 && line.empty()) {
      if (stream.is_eof()) return {};  // the server ended the watch (timeoutSeconds)
      continue;
    }
    if (line.empty()) continue;
    line.reserve(line.size() + 64);
    if (!on_event(line)) return {};
  }
}

Result<json> RestKubeClient::apply(const ApiResource& resource, const json& object,
                                   const ApplyOptions& options) {
  const json& metadata = object.contains("metadata") ? object["metadata"] : json::object();
  std::string name = metadata.value("name", std::string());
  std::string ns = metadata.value("namespace", std::string());
  if (name.empty()) {
    return invalid_input("apply needs metadata.name", resource.qualified_name());
  }
  CallSpec spec{.verb = "apply",
                .method = http::methods::PATCH,
                .resource = &resource,
                .ns = ns,
                .name = name,
                .path = resource_path(resource, ns, name, options.subresource),
                .body = to_json_text(object),
                .content_type = "application/apply-patch+yaml",
                .impersonate_user = options.impersonate_user};
  add_query(spec.path, "fieldManager", options.field_manager);
  if (options.force) add_query(spec.path, "force", "true");
  if (options.dry_run) add_query(spec.path, "dryRun", "All");
  PL_ASSIGN_OR_RETURN(std::string body, call(spec, options.cancel));
  return json::parse(body, nullptr, false);
}

Result<json> RestKubeClient::patch(const ApiResource& resource, std::string_view ns,
                                   std::string_view name, const json& body,
                                   const PatchOptions& options) {
  if (name.empty()) return invalid_input("patch needs a name", resource.qualified_name());
  CallSpec spec{.verb = "patch",
                .method = http::methods::PATCH,
                .resource = &resource,
                .ns = std::string(ns),
                .name = std::string(name),
                .path = resource_path(resource, ns, name, ""),
                .body = to_json_text(body),
                .content_type = options.type == PatchType::kJson
                                    ? "application/json-patch+json"
                                    : "application/strategic-merge-patch+json",
                .impersonate_user = options.impersonate_user};
  add_query(spec.path, "fieldManager", options.field_manager);
  if (options.dry_run) add_query(spec.path, "dryRun", "All");
  PL_ASSIGN_OR_RETURN(std::string answer, call(spec, options.cancel));
  return json::parse(answer, nullptr, false);
}

Result<json> RestKubeClient::create(const ApiResource& resource, std::string_view ns,
                                    const json& object, const Cancellation* cancel) {
  CallSpec spec{.verb = "create",
                .method = http::methods::POST,
                .resource = &resource,
                .ns = std::string(ns),
                .path = resource_path(resource, ns, "", ""),
                .body = to_json_text(object),
                .content_type = "application/json",
                .retry_on_5xx = false};
  PL_ASSIGN_OR_RETURN(std::string body, call(spec, cancel));
  return json::parse(body, nullptr, false);
}

Result<json> RestKubeClient::put(const ApiResource& resource, const json& object,
                                 std::string_view subresource, const Cancellation* cancel) {
  const json& metadata = object.contains("metadata") ? object["metadata"] : json::object();
  std::string name = metadata.value("name", std::string());
  std::string ns = metadata.value("namespace", std::string());
  CallSpec spec{.verb = "update",
                .method = http::methods::PUT,
                .resource = &resource,
                .ns = ns,
                .name = name,
                .path = resource_path(resource, ns, name, subresource),
                .body = to_json_text(object),
                .content_type = "application/json"};
  PL_ASSIGN_OR_RETURN(std::string body, call(spec, cancel));
  return json::parse(body, nullptr, false);
}

std::vector<ApiCallCount> RestKubeClient::call_counts() const {
  std::lock_guard lock(counts_mu_);
  std::vector<ApiCallCount> out;
  for (const auto& [key, n] : counts_) out.push_back({key.first, key.second, n});
  return out;
}

}  // namespace rest

using rest::quote;

Result<std::unique_ptr<KubeClient>> make_kube_client(const KubeConfig& config,
                                                     const KubeClientOptions& options) {
  if (config.server.empty()) return invalid_input("no server URL", config.source);
  try {
    web::uri uri(utility::conversions::to_string_t(config.server));
    if (uri.scheme() != U("https") && uri.scheme() != U("http")) {
      return invalid_input("server URL must be https://: " + config.server, config.source);
    }
    // cpprestsdk verifies the certificate against the URL's host and cannot be told another
    // name; refusing is better than verifying the wrong one.
    if (!config.tls_server_name.empty() &&
        config.tls_server_name != utility::conversions::to_utf8string(uri.host())) {
      return invalid_input("tls-server-name " + quote(config.tls_server_name) +
                               " is not supported (the certificate is checked against the "
                               "server URL's host " +
                               utility::conversions::to_utf8string(uri.host()) + ")",
                           config.source);
    }
  } catch (const std::exception& e) {
    return invalid_input("bad server URL " + quote(config.server) + ": " + e.what(), config.source);
  }
  return std::unique_ptr<KubeClient>(std::make_unique<rest::RestKubeClient>(config, options));
}

}  // namespace plumbline
