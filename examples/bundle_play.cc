// bundle_play: walks a game bundle with the header-only branch runtime and prints each step.
//
// Usage: bundle_play BUNDLE.json [--seed N] [--choose VARIANT_ID ...] [--auto] [--max-steps N]
//
// Plays from the root, jumping from one timeline event to the next. When choices are open it
// takes the next --choose id if it is among them (the ids are used in order; one that is not
// open waits for a later window), otherwise with --auto a weighted random open choice, and
// otherwise lets the window time out (the bundle's default/random rule). Stops at an ending or
// after --max-steps branches (default 1000) to guard against endless loops.
//
// Exit codes: 0 an ending was reached; 1 bad bundle, runtime error or a --choose id never
// taken; 2 usage; 3 the step cap was reached.
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "pixvault/branch_runtime.hpp"

namespace {

namespace br = pixvault::branch;

struct Options {
  std::string path;
  std::uint64_t seed = 0;
  std::vector<std::int64_t> choose;
  bool automatic = false;
  std::uint64_t max_steps = 1000;
};

std::string Num(double v) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

std::string Name(const std::string& name) {
  return name.empty() ? "" : " " + br::json::Quote(name);
}

std::string StateLine(const br::Player& p) {
  std::string out = "  state";
  const auto& vars = p.bundle().schema().variables();
  if (vars.empty()) return out + " (none)";
  for (std::uint32_t slot = 0; slot < vars.size(); ++slot) {
    br::Literal v = p.state().Get(slot);
    out += " " + vars[slot].name + "=";
    switch (v.index()) {
      case 1:
        out += std::get<bool>(v) ? "true" : "false";
        break;
      case 2:
        out += std::to_string(std::get<std::int64_t>(v));
        break;
      case 3:
        out += br::json::Quote(std::get<std::string>(v));
        break;
      default:
        out += "unset";
    }
  }
  return out;
}

std::string At(double t, const br::Node* node) {
  return "t=" + Num(t) + " node " + (node ? std::to_string(node->id) : std::string("?")) + ": ";
}

bool ParseInt(const std::string& s, std::int64_t& out) {
  auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

int Usage(const std::string& problem) {
  std::cerr << "bundle_play: " << problem << "\n"
            << "usage: bundle_play BUNDLE.json [--seed N] [--choose VARIANT_ID ...] [--auto] "
               "[--max-steps N]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    std::int64_t n = 0;
    if (a == "--seed" || a == "--max-steps") {
      if (i + 1 >= argc || !ParseInt(argv[i + 1], n) || n < 0) return Usage(a + " needs N >= 0");
      (a == "--seed" ? o.seed : o.max_steps) = static_cast<std::uint64_t>(n);
      ++i;
    } else if (a == "--choose") {
      while (i + 1 < argc && ParseInt(argv[i + 1], n)) {
        o.choose.push_back(n);
        ++i;
      }
    } else if (a == "--auto") {
      o.automatic = true;
    } else if (a.rfind("--", 0) == 0 || !o.path.empty()) {
      return Usage("unexpected argument '" + a + "'");
    } else {
      o.path = a;
    }
  }
  if (o.path.empty()) return Usage("no bundle given");

  std::ifstream in(o.path, std::ios::binary);
  if (!in) {
    std::cerr << "bundle_play: cannot read " << o.path << "\n";
    return 1;
  }
  std::stringstream text;
  text << in.rdbuf();
  auto bundle = br::LoadBundle(text.str());
  if (!bundle.ok()) {
    std::cerr << "bundle_play: " << o.path << ": " << bundle.error().message << "\n";
    return 1;
  }
  const br::Bundle& b = *bundle;
  std::cout << "bundle " << o.path << ": " << b.nodes().size() << " nodes, "
            << b.branch_points().size() << " branch points, root " << b.root_id() << ", seed "
            << o.seed << "\n";

  br::Player player(b, o.seed);
  br::Rng auto_rng(o.seed ^ 0x9E3779B97F4A7C15ull);  // --auto picks, apart from the player's
  std::uint64_t branches = 0;
  std::size_t next_choice = 0;
  std::vector<br::Event> events;
  std::vector<br::Choice> choices;

  auto print = [&](const std::vector<br::Event>& list) {
    for (const br::Event& e : list) {
      std::cout << At(e.time, e.node);
      switch (e.kind) {
        case br::EventKind::kWindowOpened:
        case br::EventKind::kWindowClosed:
          std::cout << (e.kind == br::EventKind::kWindowOpened ? "window opened" : "window closed")
                    << ": branch point " << e.branch_point->id << Name(e.branch_point->name)
                    << "\n";
          break;
        case br::EventKind::kEffectsFailed:
          std::cout << "effects of variant " << e.variant->id << " failed; state unchanged\n";
          break;
        case br::EventKind::kBranchTaken:
          ++branches;
          std::cout << "branch point " << e.branch_point->id << Name(e.branch_point->name)
                    << ": variant " << e.variant->id << Name(e.variant->name) << " by "
                    << br::RuleName(e.rule) << " -> node " << e.target->id << "\n"
                    << StateLine(player) << "\n";
          break;
        case br::EventKind::kEnded:
          std::cout << "ended\n";
          break;
      }
    }
  };
  auto fail = [&](const br::Error& e) {
    std::cerr << "bundle_play: " << e.message << "\n";
    return 1;
  };

  std::cout << At(0, player.node()) << "start\n" << StateLine(player) << "\n";
  if (auto s = player.Advance(0, events); !s.ok()) return fail(s.error());
  print(events);
  while (!player.ended()) {
    if (branches >= o.max_steps) {
      std::cout << "stopped: no ending after " << branches << " branches (--max-steps)\n";
      return 3;
    }
    player.OpenChoices(choices);
    const br::Choice* pick = nullptr;
    const char* why = "--choose";
    if (!choices.empty()) {
      std::cout << At(player.time(), player.node()) << "open choices:";
      for (const br::Choice& c : choices)
        std::cout << " " << c.variant->id << Name(c.variant->name);
      std::cout << "\n";
      if (next_choice < o.choose.size()) {
        for (const br::Choice& c : choices) {
          if (c.variant->id == o.choose[next_choice]) pick = &c;
        }
        if (pick) ++next_choice;
      } else if (o.automatic) {
        why = "--auto";
        double total = 0;
        for (const br::Choice& c : choices) total += c.variant->weight;
        if (total > 0) {
          double x = auto_rng.NextDouble() * total;
          for (const br::Choice& c : choices) {
            if (pick == nullptr && c.variant->weight > 0) {
              x -= c.variant->weight;
              if (x < 0) pick = &c;
            }
          }
        }
        if (pick == nullptr) pick = &choices[auto_rng.Below(choices.size())];
      }
    }
    events.clear();
    if (pick) {
      std::cout << At(player.time(), player.node()) << "choose " << pick->variant->id << " (" << why
                << ")\n";
      if (auto s = player.Choose(pick->variant->id, events); !s.ok()) return fail(s.error());
    } else if (auto s = player.Advance(player.NextEventTime() - player.time(), events); !s.ok()) {
      return fail(s.error());
    }
    print(events);
  }
  std::cout << "ending: node " << player.node()->id << " after " << branches << " branches\n";
  if (next_choice < o.choose.size()) {
    std::cerr << "bundle_play: --choose " << o.choose[next_choice] << " was never open\n";
    return 1;
  }
  return 0;
}
