// RestKubeClient: KubeClient over HTTPS with cpprestsdk.
//
// cpprestsdk's own timeout is per socket operation (inactivity), so every call also runs under
// an overall deadline here: the request task is awaited in short slices, and a deadline or a
// Cancellation cancels it. TLS trusts only the kubeconfig's CA when it names one (like
// client-go), never the system store in addition.
#include <cpprest/http_client.h>
#include <cpprest/rawptrstream.h>
#include <cpprest/streams.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <atomic>
#include <future>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

#include "plumbline/kube_client.h"
#include "plumbline/utf8.h"

namespace plumbline {

struct Cancellation::State {
  std::atomic<bool> cancelled{false};
};

Cancellation::Cancellation() : state_(std::make_shared<State>()) {}
void Cancellation::cancel() const { state_->cancelled.store(true); }
bool Cancellation::cancelled() const { return state_->cancelled.load(); }

namespace {

namespace http = web::http;
using Clock = std::chrono::steady_clock;

std::string quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

// "list deployments.apps in namespace "shop-prod"", "get pods "x" in namespace "y"".
std::string describe_call(std::string_view verb, const ApiResource& resource, std::string_view ns,
                          std::string_view name) {
  std::string out = std::string(verb) + " " + resource.qualified_name();
  if (!name.empty()) out += " " + quote(name);
  if (!ns.empty()) {
    out += " in namespace " + quote(ns);
  } else if (resource.namespaced) {
    out += " in all namespaces";
  }
  return out;
}

// The message of a metav1.Status body, with field causes for 422; the raw body (bounded)
// when it is not a Status.
std::string status_message(std::string_view body) {
  json status = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (status.is_object() && status.contains("message") && status["message"].is_string()) {
    std::string message = status["message"].get<std::string>();
    const json* causes = nullptr;
    if (status.contains("details") && status["details"].is_object() &&
        status["details"].contains("causes") && status["details"]["causes"].is_array()) {
      causes = &status["details"]["causes"];
    }
    // The apiserver's 422 message already lists the causes; add them only when it does not.
    if (causes != nullptr && message.find(':') == std::string::npos) {
      for (const json& cause : *causes) {
        message += "; " + cause.value("field", std::string()) + ": " +
                   cause.value("message", std::string());
      }
    }
    return message;
  }
  std::string text = utf8_prefix(body, 300);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text.empty() ? "(empty body)" : text;
}

}  // namespace

Error api_error(int http_status, std::string_view body, std::string_view verb,
                const ApiResource& resource, std::string_view ns, std::string_view name,
                std::string_view server) {
  const std::string call = describe_call(verb, resource, ns, name);
  const std::string detail = status_message(body);
  std::string where(server);
  const ErrorCode code = code_for_http_status(http_status);
  std::string words;
  switch (http_status) {
    case 400:
      words = "bad request (400)";
      break;
    case 401:
      words =
          "unauthorized (401): the server rejected the credentials (expired or invalid token, or "
          "a client certificate it does not trust)";
      break;
    case 403:
      words = "forbidden (403)";
      break;
    case 404:
      words = "not found (404)";
      break;
    case 409:
      words = "conflict (409)";
      break;
    case 410:
      words = "gone (410)";
      break;
    case 422:
      words = "invalid (422)";
      break;
    case 429:
      words = "too many requests (429), still throttled after retries";
      break;
    default:
      words = "HTTP " + std::to_string(http_status);
  }
  return {code, "cannot " + call + ": " + words + ": " + detail, where};
}

namespace {

struct CallSpec {
  std::string verb;  // for messages and counts: get, list, watch, apply, create, update
  http::method method;
  const ApiResource* resource = nullptr;  // null for discovery
  std::string ns, name;
  std::string path;  // relative to the server URL, already encoded, with query
  std::string body;
  std::string content_type;
  bool retry_on_5xx = true;      // idempotent calls only; 429 is always retried
  std::string impersonate_user;  // Impersonate-User header when not empty
};

// Everything an error message needs, copied, so continuations that outlive a call (after its
// deadline) hold no pointer into the client.
struct CallContext {
  std::string call;     // "list deployments.apps in namespace \"x\""
  std::string context;  // kubeconfig context
  std::string source;   // kubeconfig path or "in-cluster"
  std::string server;
};

Error transport_error(const CallContext& c, const std::string& what) {
  bool tls = what.find("handshake") != std::string::npos ||
             what.find("certificate") != std::string::npos ||
             what.find("SSL") != std::string::npos || what.find("ssl") != std::string::npos;
  if (tls) {
    return {ErrorCode::kInvalidInput,
            "cannot " + c.call + ": TLS handshake failed (" + what +
                "): the server's certificate is not signed by the CA of context \"" + c.context +
                "\" (" + c.source + "), or the server refused the client certificate",
            c.server};
  }
  return {ErrorCode::kUnavailable, "cannot " + c.call + ": cannot reach the server: " + what,
          c.server};
}

// What a finished HTTP exchange gave: a status and a body, or a transport error.
struct Exchange {
  int status = 0;
  std::string body;
  std::string retry_after;
};

class RestKubeClient final : public KubeClient {
 public:
  RestKubeClient(KubeConfig config, KubeClientOptions options)
      : config_(std::move(config)), options_(std::move(options)) {
    client_ =
        std::make_unique<http::client::http_client>(server_uri(), client_config(options_.timeout));
  }

  Result<ApiResource> resource_for(std::string_view api_version, std::string_view kind) override;
  Result<std::string> get(const ApiResource& resource, std::string_view ns, std::string_view name,
                          const Cancellation* cancel) override;
  Result<std::string> list(const ApiResource& resource, std::string_view ns,
                           const ListOptions& options, const Cancellation* cancel) override;
  Status watch(const ApiResource& resource, std::string_view ns, const WatchOptions& options,
               const std::function<bool(std::string& line)>& on_event,
               const Cancellation& cancel) override;
  Result<json> apply(const ApiResource& resource, const json& object,
                     const ApplyOptions& options) override;
  Result<json> patch(const ApiResource& resource, std::string_view ns, std::string_view name,
                     const json& body, const PatchOptions& options) override;
  Result<json> create(const ApiResource& resource, std::string_view ns, const json& object,
                      const Cancellation* cancel) override;
  Result<json> update(const ApiResource& resource, const json& object,
                      const Cancellation* cancel) override {
    return put(resource, object, "", cancel);
  }
  Result<json> update_status(const ApiResource& resource, const json& object,
                             const Cancellation* cancel) override {
    return put(resource, object, "status", cancel);
  }
  std::vector<ApiCallCount> call_counts() const override;

 private:
  Result<json> put(const ApiResource& resource, const json& object, std::string_view subresource,
                   const Cancellation* cancel);
  web::uri server_uri() const {
    return web::uri(utility::conversions::to_string_t(config_.server));
  }

  http::client::http_client_config client_config(std::chrono::milliseconds timeout) const {
    http::client::http_client_config cfg;
    cfg.set_timeout(timeout);
    cfg.set_validate_certificates(!config_.insecure_skip_tls_verify);
    std::string ca = config_.ca_pem, cert = config_.client_cert_pem, key = config_.client_key_pem;
    cfg.set_ssl_context_callback([ca, cert, key](boost::asio::ssl::context& ctx) {
      if (!ca.empty()) {
        // Trust exactly the kubeconfig's CA: a fresh store replaces the system's.
        SSL_CTX_set_cert_store(ctx.native_handle(), X509_STORE_new());
        ctx.add_certificate_authority(boost::asio::buffer(ca));
      }
      if (!cert.empty()) {
        ctx.use_certificate_chain(boost::asio::buffer(cert));
        ctx.use_private_key(boost::asio::buffer(key), boost::asio::ssl::context::pem);
      }
    });
    return cfg;
  }

  std::string resource_path(const ApiResource& resource, std::string_view ns, std::string_view name,
                            std::string_view subresource) const {
    std::string path = resource.group.empty() ? "/api/" + resource.version
                                              : "/apis/" + resource.group + "/" + resource.version;
    if (resource.namespaced && !ns.empty()) {
      path += "/namespaces/" + encode(ns);
    }
    path += "/" + resource.resource;
    if (!name.empty()) path += "/" + encode(name);
    if (!subresource.empty()) path += "/" + std::string(subresource);
    return path;
  }

  static std::string encode(std::string_view segment) {
    return utility::conversions::to_utf8string(
        web::uri::encode_data_string(utility::conversions::to_string_t(std::string(segment))));
  }

  static void add_query(std::string& path, std::string_view name, std::string_view value) {
    path += path.find('?') == std::string::npos ? '?' : '&';
    path += std::string(name) + "=" + encode(value);
  }

  http::http_request make_request(const CallSpec& spec) const;
  Result<Exchange> exchange_once(const CallSpec& spec, Clock::time_point deadline,
                                 const Cancellation* cancel);
  Result<std::string> call(const CallSpec& spec, const Cancellation* cancel = nullptr);
  CallContext context_of(const CallSpec& spec) const {
    return {spec.resource != nullptr ? describe_call(spec.verb, *spec.resource, spec.ns, spec.name)
                                     : spec.verb + " " + spec.path,
            config_.context, config_.source, config_.server};
  }
  void count(const std::string& verb, int code) {
    std::lock_guard lock(counts_mu_);
    ++counts_[{verb, code}];
  }

  KubeConfig config_;
  KubeClientOptions options_;
  std::unique_ptr<http::client::http_client> client_;

  std::mutex discovery_mu_;
  std::map<std::string, std::vector<ApiResource>> discovery_;  // by group/version

  mutable std::mutex counts_mu_;
  std::map<std::pair<std::string, int>, long> counts_;
};

http::http_request RestKubeClient::make_request(const CallSpec& spec) const {
  http::http_request request(spec.method);
  request.set_request_uri(utility::conversions::to_string_t(spec.path));
  request.headers().add(U("Accept"), U("application/json"));
  request.headers().add(U("User-Agent"), utility::conversions::to_string_t(options_.user_agent));
  if (!spec.body.empty()) {
    // As bytes: cpprestsdk's string overload reads a char buffer through an unsigned-char
    // stream, which UBSan reports as undefined behaviour.
    request.set_body(std::vector<unsigned char>(spec.body.begin(), spec.body.end()));
    request.headers().set_content_type(utility::conversions::to_string_t(spec.content_type));
  }
  if (!spec.impersonate_user.empty()) {
    request.headers().add(U("Impersonate-User"),
                          utility::conversions::to_string_t(spec.impersonate_user));
  }
  return request;
}

// One HTTP exchange under `deadline`, cancelled when `cancel` fires.
Result<Exchange> RestKubeClient::exchange_once(const CallSpec& spec, Clock::time_point deadline,
                                               const Cancellation* cancel) {
  PL_ASSIGN_OR_RETURN(std::string token, current_bearer_token(config_));
  http::http_request request = make_request(spec);
  if (!token.empty()) {
    request.headers().add(U("Authorization"), utility::conversions::to_string_t("Bearer " + token));
  }
  pplx::cancellation_token_source cts;
  // The continuation owns its result: on a deadline we return while it may still run.
  auto promise = std::make_shared<std::promise<Result<Exchange>>>();
  std::future<Result<Exchange>> future = promise->get_future();
  client_->request(request, cts.get_token())
      .then([](http::http_response response) {
        return response.extract_utf8string(true).then([response](std::string body) {
          Exchange exchange;
          exchange.status = response.status_code();
          exchange.body = std::move(body);
          auto it = response.headers().find(U("Retry-After"));
          if (it != response.headers().end()) {
            exchange.retry_after = utility::conversions::to_utf8string(it->second);
          }
          return exchange;
        });
      })
      .then([promise, context = context_of(spec)](pplx::task<Exchange> task) {
        try {
          promise->set_value(task.get());
        } catch (const pplx::task_canceled&) {
          promise->set_value(Error(ErrorCode::kCancelled, "cancelled", context.server));
        } catch (const std::exception& e) {
          promise->set_value(transport_error(context, e.what()));
        }
      });
  while (true) {
    auto slice = std::min(deadline, Clock::now() + std::chrono::milliseconds(100));
    if (future.wait_until(slice) == std::future_status::ready) break;
    bool cancelled = cancel != nullptr && cancel->cancelled();
    if (cancelled || Clock::now() >= deadline) {
      cts.cancel();
      // Give the cancelled exchange a moment to unwind, then leave it to finish alone.
      future.wait_for(std::chrono::seconds(2));
      if (cancelled) return Error(ErrorCode::kCancelled, "cancelled", config_.server);
      return Error(ErrorCode::kTimeout,
                   "cannot " + context_of(spec).call + ": no answer within " +
                       std::to_string(options_.timeout.count()) + " ms",
                   config_.server);
    }
  }
  return future.get();
}

// A call with retries: 429 (honouring Retry-After) always; 5xx and connection errors when the
// call is idempotent. Exponential backoff, all under one deadline.
Result<std::string> RestKubeClient::call(const CallSpec& spec, const Cancellation* cancel) {
  const Clock::time_point deadline = Clock::now() + options_.timeout;
  std::chrono::milliseconds backoff = options_.backoff_initial;
  Error last(ErrorCode::kInternal, "no attempt made");
  for (int attempt = 1; attempt <= std::max(1, options_.max_attempts); ++attempt) {
    Result<Exchange> exchange = exchange_once(spec, deadline, cancel);
    std::chrono::milliseconds wait = backoff;
    if (!exchange.ok()) {
      count(spec.verb, 0);
      last = exchange.error();
      if (last.code() != ErrorCode::kUnavailable || !spec.retry_on_5xx) return last;
    } else {
      count(spec.verb, exchange->status);
      int status = exchange->status;
      if (status >= 200 && status < 300) return std::move(exchange->body);
      static const ApiResource kDiscovery{.resource = "discovery"};
      last = api_error(status, exchange->body, spec.verb,
                       spec.resource != nullptr ? *spec.resource : kDiscovery, spec.ns, spec.name,
                       config_.server);
      bool retry = status == 429 || (status >= 500 && spec.retry_on_5xx);
      if (!retry) return last;
      if (status == 429 && !exchange->retry_after.empty()) {
        char* end = nullptr;
        long seconds = std::strtol(exchange->retry_after.c_str(), &end, 10);
        if (end != exchange->retry_after.c_str() && seconds >= 0) {
          wait = std::chrono::milliseconds(std::min(seconds, 60L) * 1000);
        }
      }
    }
    if (attempt == options_.max_attempts || Clock::now() + wait >= deadline) break;
    // Sleep in slices so a cancellation is seen.
    Clock::time_point wake = Clock::now() + wait;
    while (Clock::now() < wake) {
      if (cancel != nullptr && cancel->cancelled()) {
        return Error(ErrorCode::kCancelled, "cancelled", config_.server);
      }
      std::this_thread::sleep_for(
          std::min<Clock::duration>(wake - Clock::now(), std::chrono::milliseconds(50)));
    }
    backoff = std::min(backoff * 2, options_.backoff_max);
  }
  return last;
}

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

  // Await a task in slices, so cancellation and the deadline are seen.
  auto await = [&](auto task) -> Result<decltype(task.get())> {
    using T = decltype(task.get());
    auto promise = std::make_shared<std::promise<Result<T>>>();
    auto future = promise->get_future();
    task.then([promise, context = context_of(spec)](decltype(task) t) {
      try {
        promise->set_value(t.get());
      } catch (const pplx::task_canceled&) {
        promise->set_value(Error(ErrorCode::kCancelled, "cancelled", context.server));
      } catch (const std::exception& e) {
        promise->set_value(transport_error(context, e.what()));
      }
    });
    while (future.wait_for(std::chrono::milliseconds(100)) != std::future_status::ready) {
      if (cancel.cancelled() || Clock::now() >= deadline) {
        cts.cancel();
        client.reset();  // closes the connection, which ends a pending read
        future.wait_for(std::chrono::seconds(2));
        if (cancel.cancelled())
          return Error(ErrorCode::kCancelled, "watch cancelled", config_.server);
        return Error(ErrorCode::kTimeout,
                     "cannot " + describe_call("watch", resource, ns, "") + ": no event within " +
                         std::to_string(timeout.count()) + " ms",
                     config_.server);
      }
    }
    return future.get();
  };

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
  while (true) {
    concurrency::streams::container_buffer<std::string> buffer;
    Result<size_t> read = await(stream.read_line(buffer));
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

}  // namespace

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
  return std::unique_ptr<KubeClient>(std::make_unique<RestKubeClient>(config, options));
}

}  // namespace plumbline
