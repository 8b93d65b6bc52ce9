// The /metrics endpoint over a real loopback socket: the published body,
// the other paths and methods, an oversized request, a bad address.
#include "app/metrics_listener.hh"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>

namespace horde::app {
namespace {

std::string exchange(uint16_t port, const std::string& request) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const timeval timeout{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
    ::close(fd);
    return {};
  }
  (void)!::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string response;
  char buffer[4096];
  ssize_t n;
  while ((n = ::recv(fd, buffer, sizeof buffer, 0)) > 0)
    response.append(buffer, size_t(n));
  ::close(fd);
  return response;
}

TEST(MetricsListener, ServesThePublishedText) {
  metrics_listener listener;
  auto port = listener.start("127.0.0.1:0");
  ASSERT_TRUE(port) << port.error().message;
  ASSERT_GT(*port, 0);
  listener.publish("horde_up 1\n");
  const std::string ok = exchange(*port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(ok.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << ok;
  EXPECT_NE(ok.find("Content-Type: text/plain; version=0.0.4"), std::string::npos);
  EXPECT_NE(ok.find("Content-Length: 11\r\n"), std::string::npos);
  EXPECT_EQ(ok.substr(ok.size() - 11), "horde_up 1\n");
  listener.publish("horde_up 2\n");
  EXPECT_NE(exchange(*port, "GET /metrics HTTP/1.0\r\n\r\n").find("horde_up 2\n"),
            std::string::npos);
  EXPECT_EQ(exchange(*port, "GET / HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 404", 0), 0u);
  EXPECT_EQ(exchange(*port, "POST /metrics HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 405", 0), 0u);
  const std::string huge = "GET /metrics HTTP/1.1\r\nX: " + std::string(10000, 'a');
  EXPECT_EQ(exchange(*port, huge).rfind("HTTP/1.1 431", 0), 0u);
  listener.stop();
  EXPECT_EQ(exchange(*port, "GET /metrics HTTP/1.1\r\n\r\n"), "");
}

TEST(MetricsListener, RefusesBadAddresses) {
  metrics_listener listener;
  EXPECT_FALSE(listener.start("9464"));
  EXPECT_FALSE(listener.start("127.0.0.1:99999"));
  EXPECT_FALSE(listener.start("localhost:9464"));
  metrics_listener v6;
  auto port = v6.start("[::1]:0");
  if (!port) GTEST_SKIP() << "no IPv6 loopback: " << port.error().message;
  EXPECT_GT(*port, 0);
}

}  // namespace
}  // namespace horde::app
