// Game bundle export: one self-contained JSON document for the branch graph rooted at an
// asset (docs/bundle-format.md is the contract), checked by the game runtime's own loader
// and validator (include/pixvault/branch_runtime.hpp) so the `validation` member reports
// exactly what a game would see.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "core/model.h"
#include "storage/store.h"

namespace pixvault::service {

struct BundleOptions {
  // Nodes get `"file": "media/<sha256>.<format>"` (relative to the bundle file) for a
  // folder shipped with its media; otherwise `file` is null.
  bool with_media = false;
  // Leading bytes of each variant's file a game loads ahead of a branch point.
  std::int64_t prefetch_bytes = 256 * 1024;
  // A graph with more reachable assets is refused (kInvalidArgument).
  std::int64_t max_nodes = 100'000;
};

// A media file of the bundle: the node's bytes and where they go, relative to the bundle.
struct BundleFile {
  AssetId asset_id = 0;
  std::string sha256;
  std::string relative_path;  // "media/<sha256>.<format>"
};

struct ExportedBundle {
  std::string json;                    // the document, `validation` included
  std::vector<BundleFile> files;       // with_media: one per distinct blob of the nodes
  std::vector<AssetId> without_bytes;  // with_media: nodes with no local copy (no `file`)
  std::size_t node_count = 0;
  std::size_t issue_count = 0;  // validation issues
};

// Exports the bundle rooted at `root` as the viewer sees it. kNotFound for an asset the
// viewer cannot see; an asset without branch points gives a bundle of that one node.
// State variables are those of the root's owner. `now` stamps `generated_at`.
Result<ExportedBundle> ExportBundle(storage::Store& store, const Viewer& viewer, AssetId root,
                                    const BundleOptions& options, Timestamp now);

}  // namespace pixvault::service
