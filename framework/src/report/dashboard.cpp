#include "report/dashboard.hpp"

// Boost 1.74's asio/awaitable.hpp uses std::exchange without including <utility> (C++20).
#include <utility>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <memory>
#include <spdlog/spdlog.h>

#include "ablate/error.hpp"
#include "report/bundle.hpp"
#include "report/page.hpp"
#include "util/sha256.hpp"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace ablate::report {
namespace {

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

Json live_settings(int poll_ms) {
  Json live = Json::object();
  live["poll"] = "/bundle.json";
  live["interval_ms"] = poll_ms;
  return live;
}

Response respond(const Request& request, const DashboardOptions& options) {
  Response response{http::status::ok, request.version()};
  response.set(http::field::server, "ablate dashboard");
  response.set(http::field::cache_control, "no-store");
  response.keep_alive(request.keep_alive());
  auto plain = [&](http::status status, std::string text) {
    response.result(status);
    response.set(http::field::content_type, "text/plain; charset=utf-8");
    response.body() = std::move(text);
  };
  const std::string target(request.target());
  if (request.method() != http::verb::get && request.method() != http::verb::head) {
    // Read-only by design: nothing a browser sends can change a run.
    response.set(http::field::allow, "GET, HEAD");
    plain(http::status::method_not_allowed, "the dashboard is read-only\n");
  } else {
    try {
      const Json bundle = collect_bundle(expand_sources(options.dirs), live_settings(options.poll_ms));
      if (target == "/" || target == "/index.html") {
        response.set(http::field::content_type, "text/html; charset=utf-8");
        response.body() = render_page(bundle);
      } else if (target == "/bundle.json") {
        // The ETag covers the sources only: "generated" changes on every request.
        Sha256 hash;
        hash.update(bundle.at("sources").dump());
        const std::string etag = "\"" + hash.hex().substr(0, 32) + "\"";
        response.set(http::field::etag, etag);
        if (request[http::field::if_none_match] == etag) {
          response.result(http::status::not_modified);
        } else {
          response.set(http::field::content_type, "application/json");
          response.body() = bundle.dump();
        }
      } else {
        plain(http::status::not_found, "not found: " + target + " (the dashboard serves / and /bundle.json)\n");
      }
    } catch (const std::exception& e) {
      plain(http::status::internal_server_error, std::string("cannot read the directories: ") + e.what() + "\n");
    }
  }
  response.prepare_payload();
  if (request.method() == http::verb::head) response.body().clear();
  return response;
}

/// One connection: requests answered in turn until the client closes it or is idle too long.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const DashboardOptions& options)
      : stream_(std::move(socket)), options_(options) {}

  void read() {
    request_ = {};
    stream_.expires_after(std::chrono::seconds(60));
    http::async_read(stream_, buffer_, request_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       if (ec) return self->close();
                       self->write();
                     });
  }

 private:
  void write() {
    response_ = respond(request_, options_);
    http::async_write(stream_, response_,
                      [self = shared_from_this()](beast::error_code ec, std::size_t) {
                        if (ec || !self->response_.keep_alive()) return self->close();
                        self->read();
                      });
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  Request request_;
  Response response_;
  const DashboardOptions& options_;
};

void accept(tcp::acceptor& acceptor, const DashboardOptions& options) {
  acceptor.async_accept([&acceptor, &options](beast::error_code ec, tcp::socket socket) {
    if (ec) return;  // the acceptor was closed: shutting down
    std::make_shared<Session>(std::move(socket), options)->read();
    accept(acceptor, options);
  });
}

}  // namespace

int serve_dashboard(const DashboardOptions& options) {
  (void)expand_sources(options.dirs);  // a wrong folder is an error now, not on the first GET
  asio::io_context io;
  tcp::acceptor acceptor(io);
  const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), options.port);
  beast::error_code ec;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    throw Error("cannot listen on 127.0.0.1:" + std::to_string(options.port) + ": " + ec.message() +
                " (choose another with --port N, or --port 0 for any free one)");
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](beast::error_code, int) {
    acceptor.close();
    io.stop();
  });
  if (options.on_listening) options.on_listening(acceptor.local_endpoint().port());
  accept(acceptor, options);
  io.run();
  return 0;
}

}  // namespace ablate::report
