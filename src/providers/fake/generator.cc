#include "providers/fake/generator.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace pixvault::providers::fake {

bool IsKnownOperation(const std::string& operation) {
  return operation == "text_to_video" || operation == "image_to_video" ||
         operation == "video_extend" || operation == "text_to_image";
}

std::string InputRefKey(const std::string& operation) {
  if (operation == "image_to_video") return "image_ref";
  if (operation == "video_extend") return "video_ref";
  return "";
}

std::string OutputExtension(const std::string& operation) {
  return operation == "text_to_image" ? ".png" : ".mp4";
}

std::string OutputContentType(const std::string& operation) {
  return operation == "text_to_image" ? "image/png" : "video/mp4";
}

std::vector<std::string> FfmpegArguments(const GenerationSpec& spec,
                                         const std::filesystem::path& out) {
  const std::string size = std::to_string(spec.width) + "x" + std::to_string(spec.height);
  const std::string duration = std::to_string(spec.duration_s);
  const std::string fps = std::to_string(spec.fps);
  std::vector<std::string> args = {"-hide_banner", "-nostdin", "-loglevel", "error", "-y"};
  auto add = [&](std::initializer_list<std::string> more) {
    args.insert(args.end(), more.begin(), more.end());
  };
  // H.264 in yuv420p needs even dimensions; the spec's are validated to be even.
  const std::vector<std::string> video_out = {"-c:v",     "libx264", "-preset",   "ultrafast",
                                              "-pix_fmt", "yuv420p", "-movflags", "+faststart"};
  if (spec.operation == "text_to_image") {
    add({"-f", "lavfi", "-i", "testsrc2=size=" + size, "-frames:v", "1"});
  } else if (spec.operation == "text_to_video") {
    add({"-f", "lavfi", "-i", "testsrc2=size=" + size + ":rate=" + fps + ":duration=" + duration,
         "-f", "lavfi", "-i", "sine=frequency=440:duration=" + duration});
    args.insert(args.end(), video_out.begin(), video_out.end());
    add({"-c:a", "aac", "-shortest"});
  } else if (spec.operation == "image_to_video") {
    // The input picture, scaled to the output size and held for the duration.
    add({"-loop", "1", "-t", duration, "-i", spec.input.string(), "-vf",
         "scale=" + size + ",setsar=1,fps=" + fps, "-t", duration});
    args.insert(args.end(), video_out.begin(), video_out.end());
  } else if (spec.operation == "video_extend") {
    // The input video (picture only) followed by `duration` seconds of test pattern.
    add({"-i", spec.input.string(), "-f", "lavfi", "-i",
         "testsrc2=size=" + size + ":rate=" + fps + ":duration=" + duration, "-filter_complex",
         "[0:v]scale=" + size + ",setsar=1,fps=" + fps + ",format=yuv420p[a];" +
             "[1:v]setsar=1,format=yuv420p[b];[a][b]concat=n=2:v=1:a=0[v]",
         "-map", "[v]"});
    args.insert(args.end(), video_out.begin(), video_out.end());
  }
  args.push_back(out.string());
  return args;
}

Status RunProgram(const std::string& ffmpeg, const std::vector<std::string>& args) {
  std::vector<std::string> all = {ffmpeg};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);

  // posix_spawn, not fork: the server is multi-threaded.
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, ffmpeg.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    return Fail(ErrorCode::kInternal, "cannot run " + ffmpeg + ": " + std::strerror(rc));
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR)
      return Fail(ErrorCode::kInternal, "waitpid: " + std::string(std::strerror(errno)));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Fail(ErrorCode::kInternal, ffmpeg + " failed (status " + std::to_string(status) + ")");
  }
  return Ok();
}

}  // namespace pixvault::providers::fake
