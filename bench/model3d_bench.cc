// model3d_bench FILE...: analyses every glTF/GLB file given with tinygltf and with assimp
// (media::AnalyzeModel with a forced parser, each in its child process) and prints a markdown
// table of triangle counts, whether the parsers agree, why not when they do not, and totals:
// files, agreements, crashes and timeouts (both must be 0 for PASS). Run by
// scripts/bench_3d.sh. Exit code 0 when the table was written, whatever it says.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <regex>
#include <string>
#include <vector>

#include "media/model3d.h"

namespace {

using pixvault::Result;
using pixvault::media::AnalyzeModel;
using pixvault::media::ModelFacts;
using pixvault::media::ModelOptions;
using pixvault::media::ModelParser;

std::string Head(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string head(64 * 1024, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<std::size_t>(in.gcount()));
  return head;
}

bool Contains(const std::string& text, std::string_view needle) {
  return text.find(needle) != std::string::npos;
}

// What went wrong, for the table: the child's fate or the first words of the parser's error.
std::string Short(const pixvault::Error& error) {
  std::string m = error.message;
  for (char& c : m) {
    if (c == '|' || c == '\n') c = ' ';
  }
  return m.size() > 90 ? m.substr(0, 90) + "..." : m;
}

bool Crashed(const Result<ModelFacts>& r) {
  return !r &&
         (Contains(r.error().message, "(crashed") || Contains(r.error().message, "(memory limit") ||
          Contains(r.error().message, "(CPU limit") || Contains(r.error().message, "(killed"));
}
bool TimedOut(const Result<ModelFacts>& r) {
  return !r && Contains(r.error().message, "(timed out)");
}

std::string Cell(const Result<ModelFacts>& r) {
  return r ? std::to_string(r->polygon_count) : "error";
}

// Why the two disagree, from what the file says and what the parsers reported.
std::string Explain(const std::string& head, const Result<ModelFacts>& tiny,
                    const Result<ModelFacts>& assimp) {
  std::vector<std::string> why;
  if (Contains(head, "KHR_draco_mesh_compression")) why.push_back("Draco-compressed");
  static const std::regex kVersion1(R"re("version"\s*:\s*"1)re");
  if ((head.size() >= 8 && head.compare(0, 4, "glTF") == 0 && head[4] == 1) ||
      std::regex_search(head, kVersion1)) {
    why.push_back("glTF 1.0 (tinygltf reads 2.0 only)");
  }
  for (const auto* r : {&tiny, &assimp}) {
    if (*r) continue;
    const std::string& m = r->error().message;
    if (Contains(m, "File not found") || Contains(m, "could not open referenced file")) {
      why.push_back("missing buffer file");
    }
  }
  if (tiny && assimp) {
    if (tiny->vertex_count == assimp->vertex_count) {
      why.push_back("same vertices, different primitive handling");
    } else {
      why.push_back("vertices " + std::to_string(tiny->vertex_count) + " vs " +
                    std::to_string(assimp->vertex_count) +
                    " (duplicate vertices joined by assimp, or different instancing)");
    }
  }
  if (tiny) {
    for (const std::string& w : tiny->warnings) {
      if (Contains(w, "no scene")) why.push_back("no scene");
      if (Contains(w, "out of range")) why.push_back("indices out of range (assimp drops those)");
      if (Contains(w, "own ancestor")) why.push_back("recursive nodes (tinygltf skips the cycle)");
    }
  }
  if (tiny && !assimp && Contains(assimp.error().message, "was not of type")) {
    why.push_back("schema type error: assimp is strict, tinygltf lenient");
  }
  if (!tiny) why.push_back(Short(tiny.error()));  // messages start with the parser's name
  if (!assimp) why.push_back(Short(assimp.error()));
  std::string out;
  for (std::size_t i = 0; i < why.size(); ++i) {
    if (std::find(why.begin(), why.begin() + static_cast<std::ptrdiff_t>(i), why[i]) !=
        why.begin() + static_cast<std::ptrdiff_t>(i)) {
      continue;  // said already
    }
    out += (out.empty() ? "" : "; ") + why[i];
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: model3d_bench [--strip PREFIX] FILE...\n";
    return 2;
  }
  std::string strip;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--strip" && i + 1 < argc) {
      strip = argv[++i];
    } else {
      files.push_back(arg);
    }
  }
  ModelOptions tiny_options, assimp_options;
  tiny_options.parser = ModelParser::kTinyGltf;
  assimp_options.parser = ModelParser::kAssimp;

  int agreements = 0, crashes = 0, timeouts = 0, both_refuse = 0;
  double tiny_seconds = 0, assimp_seconds = 0;
  std::cout << "## 3D models\n\n"
            << "Every glTF/GLB file of assimp's sample models, analysed twice through "
               "`media::AnalyzeModel` (each parse in its own rlimited child process): once "
               "with tinygltf, once with assimp. Triangles as instanced in the scene graph.\n\n"
            << "| file | tinygltf triangles | assimp triangles | agree? | explanation |\n"
            << "|---|---:|---:|---|---|\n";
  for (const std::string& file : files) {
    using Clock = std::chrono::steady_clock;
    const auto t0 = Clock::now();
    const Result<ModelFacts> tiny = AnalyzeModel(file, "", tiny_options);
    const auto t1 = Clock::now();
    const Result<ModelFacts> assimp = AnalyzeModel(file, "", assimp_options);
    const auto t2 = Clock::now();
    tiny_seconds += std::chrono::duration<double>(t1 - t0).count();
    assimp_seconds += std::chrono::duration<double>(t2 - t1).count();
    crashes += Crashed(tiny) + Crashed(assimp);
    timeouts += TimedOut(tiny) + TimedOut(assimp);

    std::string agree;
    if (tiny && assimp && tiny->polygon_count == assimp->polygon_count) {
      agree = "yes";
      ++agreements;
    } else if (!tiny && !assimp) {
      agree = "both refuse";
      ++both_refuse;
    } else {
      agree = "**no**";
    }
    const std::string name =
        !strip.empty() && file.rfind(strip, 0) == 0 ? file.substr(strip.size()) : file;
    std::cout << "| " << name << " | " << Cell(tiny) << " | " << Cell(assimp) << " | " << agree
              << " | " << (agree == "yes" ? "" : Explain(Head(file), tiny, assimp)) << " |\n";
  }
  const bool pass = crashes == 0 && timeouts == 0;
  std::printf(
      "\n| files | agreements | both refuse | disagreements | crashes | timeouts | tinygltf s | "
      "assimp s | result |\n|---:|---:|---:|---:|---:|---:|---:|---:|---|\n"
      "| %zu | %d | %d | %zu | %d | %d | %.2f | %.2f | %s |\n",
      files.size(), agreements, both_refuse,
      files.size() - static_cast<std::size_t>(agreements) - static_cast<std::size_t>(both_refuse),
      crashes, timeouts, tiny_seconds, assimp_seconds, pass ? "PASS" : "**FAIL**");
  return 0;
}
