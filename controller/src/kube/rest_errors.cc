// What a failed Kubernetes API call says: the call named (verb, resource, namespace, name),
// the apiserver's own message, and the ErrorCode of its HTTP status (code_for_http_status).
#include "kube/rest_client.h"
#include "plumbline/core/utf8.h"

namespace plumbline {
namespace rest {

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

}  // namespace rest

using rest::describe_call;
using rest::status_message;

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

}  // namespace plumbline
