// RestKubeClient: KubeClient over HTTPS with cpprestsdk (private to kube/).
//
// cpprestsdk's own timeout is per socket operation (inactivity), so every call also runs under
// an overall deadline: the request task is awaited in short slices (await_task below), and a
// deadline or a Cancellation cancels it. TLS trusts only the kubeconfig's CA when it names one
// (like client-go), never the system store in addition.
//
// rest_errors.cc: what a failed call says (api_error, transport_error); rest_call.cc: one
// exchange and the retry loop; rest_kube_client.cc: the verbs and discovery.
#pragma once

#include <cpprest/http_client.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <chrono>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "plumbline/kube/kube_client.h"

namespace plumbline::rest {

namespace http = web::http;
using Clock = std::chrono::steady_clock;

inline std::string quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

// "list deployments.apps in namespace "shop-prod"", "get pods "x" in namespace "y"".
std::string describe_call(std::string_view verb, const ApiResource& resource, std::string_view ns,
                          std::string_view name);
// The message of a metav1.Status body, with field causes for 422; the raw body (bounded)
// when it is not a Status.
std::string status_message(std::string_view body);

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

// A failure below HTTP: TLS (the CA or the client certificate) or the connection.
Error transport_error(const CallContext& c, const std::string& what);

// Awaits a cpprestsdk task in 100 ms slices until `deadline`, so a Cancellation and the
// deadline are seen; then `abort` cancels the exchange (and may close its connection), the
// task gets two seconds to unwind and is left to finish alone (the continuation owns the
// result). Exceptions of the task become transport_error(context, …).
struct AwaitLimits {
  Clock::time_point deadline;
  const Cancellation* cancel = nullptr;
  std::function<void()> abort;
  std::string cancelled_message;  // "cancelled", "watch cancelled"
  std::string timeout_message;    // the whole message of the kTimeout error
};

template <typename Task>
auto await_task(Task task, const CallContext& context, const AwaitLimits& limits)
    -> Result<decltype(task.get())> {
  using T = decltype(task.get());
  auto promise = std::make_shared<std::promise<Result<T>>>();
  auto future = promise->get_future();
  task.then([promise, context](Task t) {
    try {
      promise->set_value(t.get());
    } catch (const pplx::task_canceled&) {
      promise->set_value(Error(ErrorCode::kCancelled, "cancelled", context.server));
    } catch (const std::exception& e) {
      promise->set_value(transport_error(context, e.what()));
    }
  });
  while (true) {
    auto slice = std::min(limits.deadline, Clock::now() + std::chrono::milliseconds(100));
    if (future.wait_until(slice) == std::future_status::ready) break;
    const bool cancelled = limits.cancel != nullptr && limits.cancel->cancelled();
    if (cancelled || Clock::now() >= limits.deadline) {
      if (limits.abort) limits.abort();
      future.wait_for(std::chrono::seconds(2));
      if (cancelled) return Error(ErrorCode::kCancelled, limits.cancelled_message, context.server);
      return Error(ErrorCode::kTimeout, limits.timeout_message, context.server);
    }
  }
  return future.get();
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
    client_ = new_client();
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
  std::string bearer_header_value() const;
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

  std::shared_ptr<http::client::http_client> new_client() const {
    return std::make_shared<http::client::http_client>(server_uri(),
                                                       client_config(options_.timeout));
  }
  // The client (and its pool of kept-alive connections) calls use now.
  std::shared_ptr<http::client::http_client> current_client() {
    std::lock_guard lock(client_mu_);
    return client_;
  }
  // A call got no answer: its connection may be stuck open (a dead peer, a load balancer that
  // lost the flow), and so may the pool's other idle connections. New calls get a new pool
  // instead of each waiting out its timeout on one of them; calls in flight keep the old one.
  void replace_client(const std::shared_ptr<http::client::http_client>& stuck) {
    std::lock_guard lock(client_mu_);
    if (client_ == stuck) client_ = new_client();
  }

  KubeConfig config_;
  KubeClientOptions options_;
  std::mutex client_mu_;
  std::shared_ptr<http::client::http_client> client_;

  std::mutex discovery_mu_;
  std::map<std::string, std::vector<ApiResource>> discovery_;  // by group/version

  mutable std::mutex counts_mu_;
  std::map<std::pair<std::string, int>, long> counts_;
};

}  // namespace plumbline::rest
