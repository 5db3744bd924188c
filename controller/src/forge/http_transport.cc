// HttpTransport over cpprestsdk's http_client: one client per origin, an overall deadline per
// request (cpprestsdk's own timeout is per socket operation), the body read in chunks up to a
// bound. TLS uses the system trust store; redirects are not followed.
#include "plumbline/forge/http_transport.h"

#include <cpprest/containerstream.h>
#include <cpprest/http_client.h>

#include <future>
#include <mutex>
#include <optional>

#include "plumbline/core/strings.h"

namespace plumbline {
namespace {

namespace http = web::http;
using Clock = std::chrono::steady_clock;

// What a continuation hands on (pplx needs a default-constructible value).
struct Outcome {
  HttpResponse response;
  std::optional<Error> error;
};

class RestTransport final : public HttpTransport {
 public:
  explicit RestTransport(HttpTransportOptions options) : options_(options) {}

  Result<HttpResponse> send(const HttpRequest& request, const std::string& where) override {
    web::uri uri;
    try {
      uri = web::uri(utility::conversions::to_string_t(request.url));
    } catch (const std::exception&) {
      return invalid_input("not a URL", where);
    }
    http::client::http_client_config config;
    config.set_timeout(options_.timeout);
    // The origin only: the path and query go in the request, so one client serves the origin.
    web::uri_builder origin;
    origin.set_scheme(uri.scheme()).set_host(uri.host()).set_port(uri.port());
    http::client::http_client client(origin.to_uri(), config);

    http::http_request message(utility::conversions::to_string_t(request.method));
    message.set_request_uri(uri.resource());
    for (const auto& [name, value] : request.headers) {
      message.headers().add(utility::conversions::to_string_t(name),
                            utility::conversions::to_string_t(value));
    }
    if (!request.body.empty()) {
      // As bytes: the string overload reads a char buffer through an unsigned-char stream,
      // which UBSan reports.
      message.set_body(std::vector<unsigned char>(request.body.begin(), request.body.end()));
      message.headers().set_content_type(U("application/json"));
    }
    const size_t limit = options_.max_body_bytes;
    pplx::cancellation_token_source cts;
    auto promise = std::make_shared<std::promise<Result<HttpResponse>>>();
    std::future<Result<HttpResponse>> future = promise->get_future();
    client.request(message, cts.get_token())
        .then([limit, where](http::http_response response) -> Outcome {
          Outcome outcome;
          HttpResponse& out = outcome.response;
          out.status = response.status_code();
          for (const auto& [name, value] : response.headers()) {
            out.headers[to_lower_ascii(utility::conversions::to_utf8string(name))] =
                utility::conversions::to_utf8string(value);
          }
          concurrency::streams::istream stream = response.body();
          concurrency::streams::container_buffer<std::vector<unsigned char>> buffer;
          while (true) {
            size_t read = stream.read(buffer, 64 * 1024).get();
            if (buffer.collection().size() > limit) {
              outcome.error =
                  Error(ErrorCode::kUnavailable,
                        "the response is larger than " + std::to_string(limit) + " bytes", where);
              return outcome;
            }
            if (read == 0) break;
          }
          const auto& bytes = buffer.collection();
          out.body.assign(bytes.begin(), bytes.end());
          return outcome;
        })
        .then([promise, where](pplx::task<Outcome> task) {
          try {
            Outcome outcome = task.get();
            if (outcome.error) {
              promise->set_value(std::move(*outcome.error));
            } else {
              promise->set_value(std::move(outcome.response));
            }
          } catch (const pplx::task_canceled&) {
            promise->set_value(Error(ErrorCode::kTimeout, "no answer in time", where));
          } catch (const std::exception& e) {
            promise->set_value(Error(ErrorCode::kUnavailable,
                                     std::string("cannot reach the server: ") + e.what(), where));
          }
        });
    const Clock::time_point deadline = Clock::now() + options_.timeout;
    if (future.wait_until(deadline) != std::future_status::ready) {
      cts.cancel();
      future.wait_for(std::chrono::seconds(2));  // let the cancelled exchange unwind
      return Error(ErrorCode::kTimeout,
                   "no answer within " + std::to_string(options_.timeout.count()) + " ms", where);
    }
    return future.get();
  }

 private:
  HttpTransportOptions options_;
};

}  // namespace

std::shared_ptr<HttpTransport> make_http_transport(HttpTransportOptions options) {
  return std::make_shared<RestTransport>(options);
}

}  // namespace plumbline
