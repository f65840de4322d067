// Runs a piece of work in a forked child process with CPU, memory and wall-clock limits, and
// hands its answer (a byte string) back through a pipe. Used to parse untrusted 3D models:
// a parser that crashes, runs out of memory or hangs takes down only the child.
//
// Caveat (fork in a multi-threaded process): POSIX allows only async-signal-safe functions in
// the child of a multi-threaded parent. `RunInChild` forks and runs `work` anyway, because
// re-executing the binary would tie the library to a hidden command-line entry point. This is
// sound as long as no other thread holds a lock the child needs at the moment of the fork:
// glibc's malloc and stdio reset their own locks in the child (they register atfork
// handlers), and `work` must not touch the parent's thread pools, loggers or other locked
// state (the model parsers use only malloc, the C++ runtime and file I/O). The child leaves
// through `_exit`, so no atexit handler or static destructor of the parent runs in it. If a
// child does deadlock on an inherited lock, the wall-clock timeout kills it and the call
// returns "timed out": AddressSanitizer's allocator has no atfork handling, and under ASan
// this was seen with 8 threads analysing at once; with glibc's malloc it was not (30 runs).
//
// Ownership: nothing is retained; the child is always reaped before the call returns.
// Thread-safety: safe to call from several threads at once (each call has its own pipe,
// opened close-on-exec, and waits only for its own child).
//
// Errors (all kCorrupt, since the work's input is what failed): "the model could not be
// parsed (crashed: signal N)", "(timed out)" after `wall_timeout`, "(CPU limit)" after
// `max_cpu_seconds`, "(memory limit)" when an allocation in the child failed with
// std::bad_alloc (a C library that dereferences a failed malloc shows up as a crash instead);
// "(exited with status N without an answer)" when the child exits without answering (a library
// that calls exit(), or a sanitizer's crash report); kInternal when the pipe or fork fails; any
// Error `work` returns is passed through.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "core/error.h"

namespace pixvault::media {

struct ChildLimits {
  // Address space the child may add to what it inherited from the parent (RLIMIT_AS is set
  // to the parent's current virtual size plus this). 0 = no limit. Not applied in
  // AddressSanitizer builds, whose shadow memory needs terabytes of address space.
  std::int64_t max_memory_bytes = std::int64_t{1} << 30;
  // CPU time of the child (RLIMIT_CPU; SIGXCPU, then SIGKILL a second later). 0 = no limit.
  std::int64_t max_cpu_seconds = 30;
  // Wall-clock time after which the child is killed with SIGKILL.
  std::chrono::milliseconds wall_timeout{60'000};
  // Largest answer accepted from the child; a longer one is an error (kInternal).
  std::size_t max_answer_bytes = 4 << 20;
};

// Forks, applies `limits` in the child, runs `work` there and returns what it returned.
// Other exceptions escaping `work` become kInternal errors.
[[nodiscard]] Result<std::string> RunInChild(const ChildLimits& limits,
                                             const std::function<Result<std::string>()>& work);

}  // namespace pixvault::media
