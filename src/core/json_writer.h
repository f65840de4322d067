// A streaming JSON writer that appends compact JSON text to a std::string.
//
// For responses on hot paths (asset lists): no intermediate DOM, no allocation beyond the
// output string. The caller is responsible for the shape (matching Begin/End calls, a Key
// before each member value); the writer inserts commas. Numbers are written in their
// shortest round-trip form; non-finite doubles become null. Strings are escaped per RFC
// 8259 (control characters, quote, backslash); other bytes pass through, so callers give
// UTF-8. Not thread-safe; one writer per output.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pixvault {

// Appends `s` as a JSON string literal (with quotes).
void AppendJsonString(std::string_view s, std::string& out);
// Appends `d` in shortest round-trip form, or null when not finite.
void AppendJsonNumber(double d, std::string& out);
void AppendJsonNumber(std::int64_t i, std::string& out);
void AppendJsonNumber(std::uint64_t i, std::string& out);

class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  void BeginObject() { Open('{'); }
  void EndObject() { Close('}'); }
  void BeginArray() { Open('['); }
  void EndArray() { Close(']'); }
  // The next value is the member `key` of the enclosing object.
  void Key(std::string_view key);
  // The same for a key that needs no escaping (no '"', '\\' or control character), such as a
  // literal in the code: appended as it is, without the escaping scan.
  void RawKey(std::string_view key);

  void String(std::string_view s);
  void Int(std::int64_t i);
  void Double(double d);
  void Bool(bool b);
  void Null();
  // Already-serialised JSON (e.g. a JSON column the store validated), inserted as is.
  void Raw(std::string_view json);

  template <class T>
  void Optional(const std::optional<T>& v) {
    if (!v) {
      Null();
    } else if constexpr (std::is_floating_point_v<T>) {
      Double(*v);
    } else if constexpr (std::is_integral_v<T>) {
      Int(static_cast<std::int64_t>(*v));
    } else {
      String(*v);
    }
  }

 private:
  void Open(char c);
  void Close(char c);
  void Separate();

  std::string& out_;
  bool need_comma_ = false;
};

}  // namespace pixvault
