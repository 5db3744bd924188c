// One exchange with the API server and the retry loop around it, all under one deadline.
#include <thread>

#include "kube/rest_client.h"

namespace plumbline::rest {

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
  const CallContext context = context_of(spec);
  std::shared_ptr<http::client::http_client> client = current_client();
  auto exchange = client->request(request, cts.get_token()).then([](http::http_response response) {
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
  });
  Result<Exchange> answer =
      await_task(exchange, context,
                 {.deadline = deadline,
                  .cancel = cancel,
                  .abort = [&cts] { cts.cancel(); },
                  .cancelled_message = "cancelled",
                  .timeout_message = "cannot " + context.call + ": no answer within " +
                                     std::to_string(options_.timeout.count()) + " ms"});
  if (!answer.ok() && answer.error().code() == ErrorCode::kTimeout) replace_client(client);
  return answer;
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

}  // namespace plumbline::rest
