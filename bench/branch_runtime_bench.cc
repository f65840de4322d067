// branch_runtime_bench: choices per second of the header-only branch runtime.
//
// Builds a synthetic bundle as JSON text (10,000 nodes, one manual branch point per node open
// from time 0, 3 variants each, conditions and effects on some, targets spread so that the
// graph is full of loops and a walk never ends), loads it, then times a walk of N choices:
// each choice lists the open choices (evaluating the variants' conditions), picks one and
// takes it (its effects applied, the player moved to its node). Reports the median of 5 runs
// on one core against the target of docs/benchmarks.md (>= 1,000,000 choices/s). Reported,
// never asserted.
//
// Usage: branch_runtime_bench [--choices N] [--nodes N] [--runs N] [--markdown FILE]
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "pixvault/branch_runtime.hpp"

namespace {

namespace br = pixvault::branch;
using Clock = std::chrono::steady_clock;

constexpr double kTargetPerSecond = 1'000'000;

struct Options {
  std::int64_t choices = 1'000'000;
  std::int64_t nodes = 10'000;
  int runs = 5;
  std::string markdown_path;
};

// The synthetic bundle. Variant 0 always holds (so a walk never gets stuck), variant 1 has a
// condition on ints and an `add`, variant 2 a compound condition and two `set`s.
std::string SyntheticBundle(std::int64_t n) {
  std::string s = R"({"format": "pixvault.bundle", "version": 1, "root": 1, "state": [
    {"name": "coins", "type": "int", "initial": 0},
    {"name": "key", "type": "bool", "initial": false},
    {"name": "mood", "type": "string", "initial": "calm"}], "nodes": [)";
  for (std::int64_t i = 1; i <= n; ++i) {
    s += (i > 1 ? "," : "") + std::string(R"({"id": )") + std::to_string(i) +
         R"(, "duration": 10, "fps": 24, "width": 1280, "height": 720, "codec": "h264"})";
  }
  s += R"(], "branch_points": [)";
  auto target = [n](std::int64_t i, std::int64_t k) {
    return std::to_string((i * 7919 + k * 104729) % n + 1);
  };
  for (std::int64_t i = 1; i <= n; ++i) {
    const std::string id = std::to_string(i);
    s += (i > 1 ? "," : "") + std::string(R"({"id": )") + id + R"(, "node": )" + id +
         R"(, "type": "manual", "time": 5, "show_at": 0, "hide_at": 5, "default_variant": )" +
         std::to_string(i * 10) + R"(, "variants": [)";
    s += R"({"id": )" + std::to_string(i * 10) + R"(, "node": )" + target(i, 0) + "},";
    s += R"({"id": )" + std::to_string(i * 10 + 1) + R"(, "node": )" + target(i, 1) +
         R"(, "weight": 2, "condition": {"ge": ["coins", 0]},
           "effects": [{"add": "coins", "value": 1}]},)";
    s += R"({"id": )" + std::to_string(i * 10 + 2) + R"(, "node": )" + target(i, 2) +
         R"(, "condition": {"and": [{"has": "mood"}, {"or": [{"eq": ["key", false]},
             {"ne": ["mood", "angry"]}]}]},
           "effects": [{"set": "key", "value": true}, {"set": "mood", "value": "brave"}]}]})";
  }
  return s + "]}";
}

std::string WithCommas(double v) {
  std::string digits = std::to_string(static_cast<long long>(v));
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--choices") {
      o.choices = std::atoll(value().c_str());
    } else if (a == "--nodes") {
      o.nodes = std::atoll(value().c_str());
    } else if (a == "--runs") {
      o.runs = std::atoi(value().c_str());
    } else if (a == "--markdown") {
      o.markdown_path = value();
    } else {
      std::cerr << "usage: branch_runtime_bench [--choices N] [--nodes N] [--runs N] "
                   "[--markdown FILE]\n";
      return 2;
    }
  }
  if (o.choices < 1 || o.nodes < 2 || o.runs < 1) {
    std::cerr << "branch_runtime_bench: --choices >= 1, --nodes >= 2, --runs >= 1\n";
    return 2;
  }

  const std::string text = SyntheticBundle(o.nodes);
  const auto load_start = Clock::now();
  auto bundle = br::LoadBundle(text);
  const double load_ms =
      std::chrono::duration<double, std::milli>(Clock::now() - load_start).count();
  if (!bundle.ok()) {
    std::cerr << "branch_runtime_bench: synthetic bundle: " << bundle.error().message << "\n";
    return 1;
  }

  std::vector<double> rates;
  std::vector<br::Event> events;
  std::vector<br::Choice> choices;
  std::uint64_t checksum = 0;
  for (int run = 0; run < o.runs; ++run) {
    br::Player player(*bundle, static_cast<std::uint64_t>(run));
    br::Rng pick(static_cast<std::uint64_t>(run) + 1000);
    events.reserve(16);
    choices.reserve(16);
    if (auto s = player.Advance(0, events); !s.ok()) {  // the root's time-0 window opens
      std::cerr << "branch_runtime_bench: " << s.error().message << "\n";
      return 1;
    }
    const auto start = Clock::now();
    for (std::int64_t c = 0; c < o.choices; ++c) {
      player.OpenChoices(choices);
      if (choices.empty()) {
        std::cerr << "branch_runtime_bench: no open choice in node " << player.node()->id << "\n";
        return 1;
      }
      const br::Choice& choice = choices[pick.Below(choices.size())];
      events.clear();
      if (auto s = player.Choose(choice, events); !s.ok()) {
        std::cerr << "branch_runtime_bench: " << s.error().message << "\n";
        return 1;
      }
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    rates.push_back(static_cast<double>(o.choices) / seconds);
    checksum += static_cast<std::uint64_t>(player.node()->id);
  }
  std::sort(rates.begin(), rates.end());
  const double median = rates[rates.size() / 2];
  const bool pass = median >= kTargetPerSecond;

  const std::string shape = WithCommas(static_cast<double>(o.nodes)) + " nodes, 3 variants";
  std::string row = "| branch runtime: choices/s (" + shape + ") | " + WithCommas(median) +
                    " | >= 1,000,000 | " + (pass ? "PASS" : "FAIL") + " |";
  std::cout << "| Measure | Result | Target | Status |\n|---|---:|---:|---|\n"
            << row << "\n"
            << "| branch runtime: bundle load (" << shape << ") | " << load_ms << " ms | - | - |\n"
            << "(" << o.runs << " runs of " << o.choices << " choices, median; walk checksum "
            << checksum << ")\n";
  if (!o.markdown_path.empty()) {
    std::ofstream md(o.markdown_path);
    md << "## Branch runtime\n\n"
       << "`branch_runtime_bench`: a synthetic bundle of " << shape
       << " per branch point (conditions and effects on two of them, a graph of loops so the walk "
          "never ends). A choice lists the open choices (conditions evaluated), picks one and "
          "takes it (effects applied, player moved). Median of "
       << o.runs << " runs of " << WithCommas(static_cast<double>(o.choices))
       << " choices on one core.\n\n"
       << "| Measure | Result | Target | Status |\n|---|---:|---:|---|\n"
       << row << "\n"
       << "| branch runtime: bundle load | " << static_cast<long long>(load_ms + 0.5)
       << " ms | - | - |\n";
    if (!md) {
      std::cerr << "branch_runtime_bench: cannot write " << o.markdown_path << "\n";
      return 1;
    }
  }
  return 0;
}
