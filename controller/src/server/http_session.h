// server/http_session.h — internal: one HTTP/1.1 connection of HttpServer, bounded by
// HttpLimits (see http_server.h for the contract).
#pragma once

#include <atomic>
#include <boost/asio/ip/tcp.hpp>

#include "plumbline/server/http_server.h"

namespace plumbline {

// What every connection of one server shares: the handlers, the limits and the count of open
// connections (kept here so it outlives them).
struct Routes {
  HttpServer::Handlers handlers;
  HttpLimits limits;
  std::atomic<int> open_connections{0};
};

// Serves requests on `socket` until the client closes, a limit is hit or the io_context
// stops. The connection lives in its pending operations; `routes` must outlive them.
void serve_http(boost::asio::ip::tcp::socket socket, Routes& routes);

}  // namespace plumbline
