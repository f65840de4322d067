// FolderProvider: a local directory that acts as a provider, e.g. the folder a game's CDN
// serves. Uploading copies the file in as `<sha256>.<ext>` (atomically: a temp file renamed
// into place, so readers never see half a file); the ref is that name and the URL is
// `base_url` + name (or a file:// URL without a base). Refs are the same for every account:
// a folder has no accounts of its own. Downloads, checks and deletes accept only names of
// that shape, so a ref can never reach outside the folder. No generation.
#pragma once

#include <filesystem>
#include <string>

#include "providers/provider.h"

namespace pixvault::providers {

struct FolderProviderOptions {
  std::string id;  // the provider id, e.g. "game-cdn"
  std::filesystem::path root;
  std::string base_url;  // e.g. "https://cdn.example.com/game/"; empty: file:// URLs
  Capabilities capabilities;
};

class FolderProvider final : public Provider {
 public:
  // Creates `root` if missing. kInvalidArgument when it is not a directory or not writable.
  static Result<std::shared_ptr<FolderProvider>> Open(FolderProviderOptions options);

  const std::string& id() const override { return options_.id; }
  const Capabilities& capabilities() const override { return options_.capabilities; }
  Result<ProviderRef> Upload(const AccountAccess& account, const UploadFile& file) override;
  Status Download(const AccountAccess& account, const ProviderRef& ref, std::int64_t offset,
                  const DownloadSink& sink) override;
  Status Check(const AccountAccess& account, const ProviderRef& ref) override;
  Status Delete(const AccountAccess& account, const ProviderRef& ref) override;
  Result<std::string> Submit(const AccountAccess& account, std::string_view operation,
                             const boost::json::object& params,
                             std::string_view idempotency_key) override;
  Result<GenerationStatus> Poll(const AccountAccess& account, std::string_view job_id) override;
  Status Cancel(const AccountAccess& account, std::string_view job_id) override;

 private:
  explicit FolderProvider(FolderProviderOptions options) : options_(std::move(options)) {}
  Result<std::filesystem::path> PathOf(const ProviderRef& ref) const;

  FolderProviderOptions options_;
};

// The synthetic provider of assets users uploaded themselves ("user_upload"): it is the
// `provider_id` of such assets, holds no files and accepts none; every call is kUnsupported.
std::shared_ptr<Provider> MakeUserUploadProvider();

inline constexpr std::string_view kUserUploadProvider = "user_upload";

}  // namespace pixvault::providers
