#include "service/probe_json.h"

#include <boost/json.hpp>

namespace pixvault::service {
namespace {

template <class T>
void Put(boost::json::object& o, std::string_view key, const std::optional<T>& v) {
  if (v) o[key] = *v;
}

}  // namespace

boost::json::object ProbeFactsJson(const media::ProbeResult& p) {
  boost::json::object o;
  Put(o, "container", p.container);
  Put(o, "video_codec", p.video_codec);
  Put(o, "video_profile", p.video_profile);
  Put(o, "video_bitrate", p.video_bitrate);
  Put(o, "variable_fps", p.variable_fps);
  Put(o, "pixel_format", p.pixel_format);
  Put(o, "bit_depth", p.bit_depth);
  Put(o, "color_space", p.color_space);
  Put(o, "color_transfer", p.color_transfer);
  Put(o, "color_primaries", p.color_primaries);
  if (p.hdr) o["hdr"] = true;
  Put(o, "audio_codec", p.audio_codec);
  Put(o, "sample_rate", p.sample_rate);
  Put(o, "channels", p.channels);
  Put(o, "bitrate", p.bitrate);
  if (p.rotation) o["rotation"] = p.rotation;
  Put(o, "has_alpha", p.has_alpha);
  Put(o, "frames", p.frames);
  if (p.audio_streams.size() > 1) {
    // One stream is already described by audio_codec/sample_rate/channels.
    boost::json::array streams;
    for (const auto& a : p.audio_streams) {
      boost::json::object s{{"codec", a.codec}};
      Put(s, "sample_rate", a.sample_rate);
      Put(s, "channels", a.channels);
      Put(s, "bitrate", a.bitrate);
      Put(s, "language", a.language);
      streams.push_back(std::move(s));
    }
    o["audio_streams"] = std::move(streams);
  }
  return o;
}

}  // namespace pixvault::service
