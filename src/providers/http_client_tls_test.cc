// https through HttpClient against a local TLS server (127.0.0.1) whose self-signed
// certificate for "localhost" is generated here: an untrusted certificate is refused, a trusted
// one works with SNI and Host carrying the URL's name, and the certificate must match that
// name. (The server is the one of fetch/fetcher_tls_test.cc, named for "localhost".)
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <thread>

#include "providers/http_client.h"

namespace pixvault::providers {
namespace {

template <class T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using CtxPtr = std::unique_ptr<SSL_CTX, Deleter<SSL_CTX, SSL_CTX_free>>;
using SslPtr = std::unique_ptr<SSL, Deleter<SSL, SSL_free>>;

// A one-connection-at-a-time TLS server on 127.0.0.1 answering every request with
// "200 hello". Records the SNI name and Host header it saw.
class TlsServer {
 public:
  TlsServer() {
    key_.reset(EVP_EC_gen("P-256"));
    cert_.reset(X509_new());
    X509* x = cert_.get();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, key_.get());
    X509_NAME* name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
    X509_set_issuer_name(x, name);
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, x, x, nullptr, nullptr, 0);
    X509_EXTENSION* san = X509V3_EXT_conf_nid(nullptr, &v3, NID_subject_alt_name, "DNS:localhost");
    X509_add_ext(x, san, -1);
    X509_EXTENSION_free(san);
    X509_sign(x, key_.get(), EVP_sha256());

    ctx_.reset(SSL_CTX_new(TLS_server_method()));
    SSL_CTX_use_certificate(ctx_.get(), x);
    SSL_CTX_use_PrivateKey(ctx_.get(), key_.get());

    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
        ::listen(fd_, 8) == 0 &&
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      port_ = ntohs(addr.sin_port);
      thread_ = std::thread([this] { Run(); });
    }
  }
  ~TlsServer() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) ::close(fd_);
  }

  std::uint16_t port() const { return port_; }
  // Writes the certificate as PEM (to be trusted through SSL_CERT_FILE).
  void WriteCert(const std::filesystem::path& path) const {
    std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>> bio(BIO_new(BIO_s_mem()));
    PEM_write_bio_X509(bio.get(), cert_.get());
    char* data = nullptr;
    long n = BIO_get_mem_data(bio.get(), &data);
    std::ofstream(path) << std::string(data, static_cast<std::size_t>(n));
  }
  int handshakes() const { return handshakes_; }
  std::string sni() const {
    std::lock_guard lock(mu_);
    return sni_;
  }
  std::string request() const {
    std::lock_guard lock(mu_);
    return request_;
  }

 private:
  void Run() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      timeval tv{2, 0};
      ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      SslPtr ssl(SSL_new(ctx_.get()));
      SSL_set_fd(ssl.get(), c);
      if (SSL_accept(ssl.get()) == 1) {
        ++handshakes_;
        const char* name = SSL_get_servername(ssl.get(), TLSEXT_NAMETYPE_host_name);
        std::string req;
        char buf[4096];
        while (req.find("\r\n\r\n") == std::string::npos) {
          int n = SSL_read(ssl.get(), buf, sizeof buf);
          if (n <= 0) break;
          req.append(buf, static_cast<std::size_t>(n));
        }
        {
          std::lock_guard lock(mu_);
          sni_ = name ? name : "";
          request_ = req;
        }
        std::string res = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
        SSL_write(ssl.get(), res.data(), static_cast<int>(res.size()));
        SSL_shutdown(ssl.get());
      }
      ::close(c);
    }
  }

  PkeyPtr key_;
  X509Ptr cert_;
  CtxPtr ctx_;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> handshakes_{0};
  mutable std::mutex mu_;
  std::string sni_;
  std::string request_;
  std::thread thread_;
};

class HttpClientTlsTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NE(server_.port(), 0); }
  void TearDown() override { ::unsetenv("SSL_CERT_FILE"); }
  HttpRequest Request(std::string_view host) const {
    HttpRequest r;
    r.url = "https://" + std::string(host) + ":" + std::to_string(server_.port()) + "/x";
    r.connect_timeout = 2 * kMicrosPerSecond;
    r.idle_timeout = 2 * kMicrosPerSecond;
    r.total_timeout = 5 * kMicrosPerSecond;
    return r;
  }

  TlsServer server_;
};

TEST_F(HttpClientTlsTest, UntrustedCertificateIsRefused) {
  HttpClient client;  // the system trust store, which lacks this certificate
  auto r = client.Send(Request("localhost"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(r.error().message.find("certificate verify failed"), std::string::npos)
      << r.error().message;
  EXPECT_TRUE(server_.request().empty());
}

TEST_F(HttpClientTlsTest, TrustedCertificateWorksForItsNameOnly) {
  auto pem = std::filesystem::temp_directory_path() /
             ("pixvault-providers-tls-" + std::to_string(::getpid()) + ".pem");
  server_.WriteCert(pem);
  ::setenv("SSL_CERT_FILE", pem.c_str(), 1);  // read when the client sets up TLS
  HttpClient client;
  auto r = client.Send(Request("localhost"));
  std::filesystem::remove(pem);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello");
  EXPECT_EQ(server_.sni(), "localhost");
  EXPECT_NE(server_.request().find("Host: localhost:" + std::to_string(server_.port())),
            std::string::npos)
      << server_.request();

  // The same trusted certificate, but the URL names the IP: not valid for it.
  auto by_ip = client.Send(Request("127.0.0.1"));
  ASSERT_FALSE(by_ip);
  EXPECT_EQ(by_ip.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(by_ip.error().message.find("TLS handshake"), std::string::npos)
      << by_ip.error().message;
}

}  // namespace
}  // namespace pixvault::providers
