// pixvault-fakeprovider: runs the fake provider server until SIGINT or SIGTERM.
//
//   pixvault-fakeprovider --listen 127.0.0.1:9000 --data /tmp/fake --token secret1 --token s2
#include <csignal>
#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "providers/fake/fake_provider.h"

int main(int argc, char** argv) {
  using pixvault::providers::fake::FakeProvider;
  using pixvault::providers::fake::FakeProviderOptions;
  CLI::App app{"A fake media provider for pixvault's tests and demos (docs/fake-provider.md)"};
  std::string listen = "127.0.0.1:0";
  std::string data;
  std::vector<std::string> tokens;
  std::string ffmpeg = "ffmpeg";
  app.add_option("--listen", listen, "HOST:PORT to listen on (port 0: any free port)");
  app.add_option("--data", data, "Folder for stored files")->required();
  app.add_option("--token", tokens, "A bearer token; each one is an account (repeatable)")
      ->required();
  app.add_option("--ffmpeg", ffmpeg, "The ffmpeg program used for generation jobs");
  CLI11_PARSE(app, argc, argv);

  FakeProviderOptions options;
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos) {
    std::fprintf(stderr, "--listen wants HOST:PORT\n");
    return 2;
  }
  options.host = listen.substr(0, colon);
  try {
    const int port = std::stoi(listen.substr(colon + 1));
    if (port < 0 || port > 65535) throw std::out_of_range("port");
    options.port = static_cast<std::uint16_t>(port);
  } catch (const std::exception&) {
    std::fprintf(stderr, "--listen: bad port in '%s'\n", listen.c_str());
    return 2;
  }
  options.data_dir = data;
  options.tokens = tokens;
  options.ffmpeg = ffmpeg;

  // Signals are taken by sigwait below; the server's threads inherit the blocked mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  FakeProvider provider(options);
  if (auto started = provider.Start(); !started) {
    std::fprintf(stderr, "pixvault-fakeprovider: %s\n", started.error().message.c_str());
    return 1;
  }
  std::printf("pixvault-fakeprovider listening on %s:%u\n", options.host.c_str(),
              static_cast<unsigned>(provider.port()));
  std::fflush(stdout);
  int signal = 0;
  sigwait(&signals, &signal);
  provider.Stop();
  return 0;
}
