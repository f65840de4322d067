// pixvault branch runtime: load a game bundle and play it as a state machine.
//
// A single header with no dependency beyond the C++20 standard library, so a game can drop it
// in. It reads the bundle format of docs/bundle-format.md (the contract with pixvault's export)
// and offers:
//   - json::Parse: a small strict JSON parser (depth-limited, UTF-8 checked, int64 exact);
//   - CompileCondition / CompileEffects: a variant's condition and effects checked against the
//     declared state and compiled to a form evaluated without allocating (pixvault's server
//     calls these before saving a variant);
//   - LoadBundle: the bundle, strict (for games) or lenient (for the exporter, which must report
//     every issue of a possibly broken graph rather than fail);
//   - Validate: the validation issues of the format (dangling targets, unreachable nodes, cycles
//     without exit, undeclared variables, type mismatches, format mismatches);
//   - Player: the state machine (current node, time, typed state, seeded deterministic PRNG).
//
// Errors. Expected failures are values: functions return Result<T> / Status, whose Error has a
// code and a message naming the offending ids ("branch point 3, variant 7: condition: unknown
// operator 'foo'"). Nothing throws past the API on any input, except std::bad_alloc when memory
// runs out. Asserts guard only programming errors (reading value() of a failed Result).
//
// Strict vs lenient loading (LoadMode):
//   - Hard errors in both modes: the text is not JSON, `format`/`version` are wrong, or a
//     member has the wrong JSON type or a required member is missing (the document cannot be
//     understood).
//   - Load issues (Issue, kept in Bundle::load_issues()): duplicate ids, dangling targets,
//     invalid conditions/effects (invalid_expression, undeclared_variable, type_mismatch),
//     out-of-domain values (negative weight, show_at > hide_at, ...). LoadMode::kStrict refuses
//     the bundle on the first one; LoadMode::kLenient keeps going (an invalid condition becomes
//     `false`, invalid effects become empty, a dangling variant is never taken) and records all.
//   - Graph issues, found by Validate() only: unreachable_node, cycle_without_exit,
//     format_mismatch. A game can play such a bundle, so strict loading accepts it.
//   Validate(bundle) returns the load issues followed by the graph issues.
//
// Ownership and threads. A Bundle owns everything it holds and is immutable once loaded: any
// number of threads may read it and run Players on it. A Player borrows its Bundle (which must
// outlive it and not move) and is not thread-safe: one thread at a time.
#pragma once

#include <algorithm>
#include <array>
#include <cassert>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

namespace pixvault::branch {

// ============================================================================================
// Errors
// ============================================================================================

enum class ErrorCode {
  kParse,               // not JSON (the message carries the byte offset)
  kUnsupported,         // wrong `format` or `version`
  kInvalidValue,        // wrong JSON type, missing member, value out of its domain
  kInvalidExpression,   // a condition or effect that is not one of the forms
  kUndeclaredVariable,  // a condition, effect or state access naming an undeclared variable
  kTypeMismatch,        // a literal or value whose type is not the variable's
  kDuplicateId,         // an id (or variable name) given twice
  kDanglingTarget,      // a reference to a node or variant not in the bundle
  kNotFound,            // Player::Choose with a variant id the bundle does not have
  kNotOpen,             // Player::Choose with a variant that is not open now
  kOverflow,            // an `add` effect overflowing int64 (state left unchanged)
  kEnded,               // Player::Choose after the ending was reached
  kStalled,             // too many branches taken without time advancing (a zero-time loop)
};

struct Error {
  ErrorCode code;
  std::string message;
};

// A value or an Error. value() on an error (or error() on a value) is a programming error.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}      // NOLINT: implicit
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT: implicit

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return *Get(); }
  const T& value() const& { return *Get(); }
  T&& value() && { return std::move(*Get()); }
  T* operator->() { return Get(); }
  const T* operator->() const { return Get(); }
  T& operator*() & { return *Get(); }
  const T& operator*() const& { return *Get(); }
  const Error& error() const {
    assert(!ok());
    return *std::get_if<1>(&v_);
  }

 private:
  T* Get() {
    assert(ok());
    return std::get_if<0>(&v_);
  }
  const T* Get() const {
    assert(ok());
    return std::get_if<0>(&v_);
  }
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)) {}  // NOLINT: implicit
  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Error& error() const {
    assert(!ok());
    return *error_;
  }

 private:
  std::optional<Error> error_;
};
using Status = Result<void>;

// ============================================================================================
// JSON
// ============================================================================================
namespace json {

enum class Type : std::uint8_t { kNull, kBool, kInt, kDouble, kString, kArray, kObject };

struct Member;

// A parsed JSON value. Integers that fit int64 (no fraction, no exponent) are kInt, exactly;
// every other number is kDouble (always finite). Object members keep document order and
// names are unique (the parser refuses duplicates). Accessors for the wrong type are
// programming errors (asserted); check type() first.
class Value {
 public:
  Value() = default;  // null

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::kNull; }
  bool is_bool() const { return type_ == Type::kBool; }
  bool is_int() const { return type_ == Type::kInt; }
  bool is_number() const { return type_ == Type::kInt || type_ == Type::kDouble; }
  bool is_string() const { return type_ == Type::kString; }
  bool is_array() const { return type_ == Type::kArray; }
  bool is_object() const { return type_ == Type::kObject; }

  bool as_bool() const {
    assert(is_bool());
    return bool_;
  }
  std::int64_t as_int() const {
    assert(is_int());
    return int_;
  }
  // kInt or kDouble as a double.
  double as_number() const {
    assert(is_number());
    return type_ == Type::kInt ? static_cast<double>(int_) : double_;
  }
  const std::string& as_string() const {
    assert(is_string());
    return string_;
  }
  const std::vector<Value>& as_array() const {
    assert(is_array());
    return array_;
  }
  const std::vector<Member>& as_object() const;
  // The member named `key` of an object, or nullptr (also when this is not an object).
  const Value* Find(std::string_view key) const;
  // Byte offset of the value in the parsed text.
  std::size_t offset() const { return offset_; }

 private:
  friend class Parser;
  Type type_ = Type::kNull;
  bool bool_ = false;
  std::int64_t int_ = 0;
  double double_ = 0;
  std::string string_;
  std::vector<Value> array_;
  std::vector<Member> object_;
  std::size_t offset_ = 0;
};

struct Member {
  std::string name;
  Value value;
};

struct ParseOptions {
  std::size_t max_depth = 64;  // arrays and objects nested deeper are refused
};

// Parses exactly one JSON value (RFC 8259) surrounded by optional whitespace. Refuses trailing
// characters, invalid UTF-8, unescaped control characters, lone surrogates in \u escapes,
// duplicate object member names, numbers outside the double range, nesting beyond max_depth.
// Errors: kParse, message "json: offset N: ...".
Result<Value> Parse(std::string_view text, ParseOptions options = {});

// `s` as a JSON string literal (with quotes), escaping what JSON requires.
std::string Quote(std::string_view s);

// "null", "a boolean", "an integer", "a number", "a string", "an array", "an object".
std::string_view Describe(Type type);

}  // namespace json

// ============================================================================================
// State: declarations and values
// ============================================================================================

enum class VarType : std::uint8_t { kBool, kInt, kString };
std::string_view VarTypeName(VarType type);  // "bool", "int", "string"

// A state value: monostate = unset.
using Literal = std::variant<std::monostate, bool, std::int64_t, std::string>;

struct VariableDecl {
  std::string name;
  VarType type = VarType::kBool;
  Literal initial;  // monostate: starts unset
};

// The declared variables of a bundle (its `state` array); each gets a dense slot 0..size()-1.
// Immutable once built; safe to share between threads.
class StateSchema {
 public:
  // Declares a variable. Errors: kDuplicateId (name taken), kTypeMismatch (initial of another
  // type), kInvalidValue (empty name).
  Status Add(std::string name, VarType type, Literal initial = {});
  // The slot of `name`, or nullopt.
  std::optional<std::uint32_t> Find(std::string_view name) const;
  const std::vector<VariableDecl>& variables() const { return vars_; }
  std::size_t size() const { return vars_.size(); }

 private:
  std::vector<VariableDecl> vars_;
  std::map<std::string, std::uint32_t, std::less<>> index_;
};

// Parses a `state` array (e.g. `[{"name": "coins", "type": "int", "initial": 0}]`).
// Errors: kParse, kInvalidValue, kDuplicateId, kTypeMismatch.
Result<StateSchema> ParseStateSchema(std::string_view json_text);

// The values of the variables of a schema (borrowed: it must outlive the State), by slot.
// Typed: a slot only ever holds a value of its declared type, or is unset.
class State {
 public:
  explicit State(const StateSchema& schema);

  // Every variable back to its `initial` value (or unset).
  void Reset();
  const StateSchema& schema() const { return *schema_; }

  // Slot accessors (slot < schema().size(); the typed getters need the matching type and a
  // set value: check with IsSet, or use Get).
  bool IsSet(std::uint32_t slot) const { return slots_[slot].set; }
  bool GetBool(std::uint32_t slot) const { return slots_[slot].b; }
  std::int64_t GetInt(std::uint32_t slot) const { return slots_[slot].i; }
  const std::string& GetString(std::uint32_t slot) const { return slots_[slot].s; }
  Literal Get(std::uint32_t slot) const;
  // Sets (or, with monostate, unsets) a slot. Errors: kTypeMismatch, kNotFound (bad slot).
  Status Set(std::uint32_t slot, Literal value);

  // By name. Errors: kUndeclaredVariable, kTypeMismatch.
  Result<Literal> Get(std::string_view name) const;
  Status Set(std::string_view name, Literal value);

 private:
  friend class Condition;
  friend class Effects;
  struct Slot {
    bool set = false;
    bool b = false;
    std::int64_t i = 0;
    std::string s;
  };
  const StateSchema* schema_;
  std::vector<Slot> slots_;
};

// ============================================================================================
// Conditions and effects (docs/bundle-format.md, "Conditions" and "Effects")
// ============================================================================================

namespace detail {
class ConditionCompiler;
class EffectsCompiler;
}  // namespace detail

// A compiled condition: a flat prefix program evaluated without allocating. Default: true.
class Condition {
 public:
  Condition() = default;
  static Condition Constant(bool value);

  // Whether the condition holds for `state` (whose schema must be the one compiled against).
  bool Evaluate(const State& state) const { return code_.empty() || Eval(state, 0); }
  // True when the condition is `null`/`true` (holds whatever the state).
  bool IsAlwaysTrue() const { return code_.empty() || code_[0].op == Op::kTrue; }
  // True when the condition is `false` (or an invalid condition kept by a lenient load).
  bool IsAlwaysFalse() const { return code_.size() == 1 && code_[0].op == Op::kFalse; }

 private:
  friend class detail::ConditionCompiler;
  enum class Op : std::uint8_t {
    kTrue,
    kFalse,
    kAnd,
    kOr,
    kNot,
    kHas,
    kEqBool,
    kNeBool,
    kEqInt,
    kNeInt,
    kLt,
    kLe,
    kGt,
    kGe,
    kEqString,
    kNeString,
  };
  struct Instr {
    Op op;
    std::uint32_t slot;  // kHas and comparisons
    std::uint32_t size;  // instructions in this subtree, itself included
    std::int64_t value;  // bool / int literal, or index into strings_
  };
  bool Eval(const State& state, std::size_t pc) const;

  std::vector<Instr> code_;
  std::vector<std::string> strings_;
};

// A compiled effect list, applied atomically.
class Effects {
 public:
  Effects() = default;
  bool empty() const { return ops_.empty(); }
  std::size_t size() const { return ops_.size(); }

  // Applies the effects in order. Atomic: when an `add` would overflow int64 nothing is
  // changed and kOverflow is returned. Allocates only when a string value grows a slot.
  Status Apply(State& state) const;

 private:
  friend class detail::EffectsCompiler;
  enum class Op : std::uint8_t { kSetBool, kSetInt, kSetString, kAdd, kUnset };
  struct Instr {
    Op op;
    std::uint32_t slot;
    std::int32_t prev;   // index of the previous op on the same slot in this list, or -1
    std::int64_t value;  // bool / int literal
    std::string text;    // kSetString
  };
  std::vector<Instr> ops_;
  bool has_add_ = false;
};

// Compiles a condition (JSON text or a parsed value) against `schema`. `null` compiles to
// true. Errors (message prefixed "condition: "): kParse, kInvalidExpression (unknown operator,
// wrong arity, an object with other than one member, ...), kUndeclaredVariable, kTypeMismatch
// (literal of another type, ordering on a bool or string variable).
Result<Condition> CompileCondition(std::string_view json_text, const StateSchema& schema);
Result<Condition> CompileCondition(const json::Value& value, const StateSchema& schema);

// Compiles an effect list (a JSON array; `null` is the empty list). Errors (message prefixed
// "effects[i]: "): kParse, kInvalidExpression (not one of set/add/unset, extra members),
// kUndeclaredVariable, kTypeMismatch.
Result<Effects> CompileEffects(std::string_view json_text, const StateSchema& schema);
Result<Effects> CompileEffects(const json::Value& value, const StateSchema& schema);

// ============================================================================================
// Issues (docs/bundle-format.md, "Validation")
// ============================================================================================

enum class IssueKind : std::uint8_t {
  kDanglingTarget,
  kUnreachableNode,
  kCycleWithoutExit,
  kUndeclaredVariable,
  kTypeMismatch,
  kFormatMismatch,
  kInvalidExpression,  // a condition or effect that is not one of the forms
  kInvalidValue,       // a value outside its domain (negative weight, show_at > hide_at, ...)
  kDuplicateId,        // an id (or a variable name) given twice
};
std::string_view IssueKindName(IssueKind kind);  // "dangling_target", ...

struct IssueIds {
  std::optional<std::int64_t> node, branch_point, variant, clip;
  std::vector<std::int64_t> nodes;  // cycle_without_exit: the nodes of the cycle
  std::string variable;             // undeclared_variable, type_mismatch (when known)
};

struct Issue {
  IssueKind kind;
  std::string message;
  IssueIds ids;
  std::vector<std::string> fields;  // format_mismatch: "codec", "width", ...
};

// {"kind": ..., "message": ..., "ids": {...}} (plus "fields" for format_mismatch).
std::string IssueToJson(const Issue& issue);
// {"ok": ..., "issues": [...]}: the bundle's `validation` member.
std::string ValidationToJson(const std::vector<Issue>& issues);

// ============================================================================================
// Bundle
// ============================================================================================

inline constexpr std::uint32_t kNoIndex = 0xffffffffu;

// The members a Player reads come first in these structs (cache locality of a walk).
struct Node {
  std::int64_t id = 0;
  std::vector<std::uint32_t> branch_points;   // indices into Bundle::branch_points(), in order
  std::string sha256, media_type, mime_type;  // "" when absent
  std::optional<std::int64_t> size_bytes;
  std::optional<double> duration, fps;  // nullopt: unknown
  std::optional<std::int64_t> width, height;
  std::optional<std::string> codec, pixel_format, file, url;
};

enum class BranchType : std::uint8_t { kManual, kAutomatic, kConditional, kRandom };
std::string_view BranchTypeName(BranchType type);  // "manual", ...

struct Variant {
  std::int64_t id = 0;
  std::uint32_t node = kNoIndex;  // index into Bundle::nodes(); kNoIndex when dangling
  double weight = 1.0;
  Condition condition;
  Effects effects;
  std::int64_t node_id = 0;
  std::string name;
  std::optional<std::string> tag;
};

struct Prefetch {
  std::int64_t node_id = 0;
  std::int64_t bytes = 0;
};

struct BranchPoint {
  std::int64_t id = 0;
  std::uint32_t node = kNoIndex;  // index into Bundle::nodes(); kNoIndex when dangling
  BranchType type = BranchType::kManual;
  double show_at = 0, hide_at = 0;
  std::uint32_t default_variant = kNoIndex;  // index into `variants`
  std::vector<Variant> variants;
  std::int64_t node_id = 0;
  std::string name;
  std::optional<std::string> tag;
  double time = 0;
  std::optional<std::int64_t> frame;
  std::optional<std::int64_t> default_variant_id;
  std::vector<Prefetch> prefetch;
};

struct Clip {
  std::int64_t id = 0;
  std::int64_t node_id = 0;
  std::uint32_t node = kNoIndex;
  std::optional<std::string> tag;
  std::string name;
  double start = 0, end = 0;
  std::optional<std::int64_t> extracted_node_id;
  std::uint32_t extracted_node = kNoIndex;
};

enum class LoadMode : std::uint8_t { kStrict, kLenient };

class Bundle;
namespace detail {
class BundleLoader;
}
class Player;

// Loads a bundle from its JSON text (see the file comment for what each mode refuses).
// Errors: kParse, kUnsupported, kInvalidValue, and in strict mode the first load issue's code
// (kDuplicateId, kDanglingTarget, kInvalidExpression, kUndeclaredVariable, kTypeMismatch,
// kInvalidValue) with its message.
Result<Bundle> LoadBundle(std::string_view json_text, LoadMode mode = LoadMode::kStrict);

// A loaded bundle: immutable, self-contained, ids mapped to dense indices.
class Bundle {
 public:
  std::int64_t root_id() const { return root_id_; }
  std::uint32_t root() const { return root_; }  // kNoIndex when dangling (lenient)
  const StateSchema& schema() const { return schema_; }
  const std::vector<Node>& nodes() const { return nodes_; }
  const std::vector<BranchPoint>& branch_points() const { return branch_points_; }
  const std::vector<Clip>& clips() const { return clips_; }
  // Issues found while loading (always empty for a strict load).
  const std::vector<Issue>& load_issues() const { return load_issues_; }

  // By id; nullptr when absent.
  const Node* FindNode(std::int64_t id) const;
  const BranchPoint* FindBranchPoint(std::int64_t id) const;
  const Variant* FindVariant(std::int64_t id) const;
  // The branch point holding variant `id`, or nullptr.
  const BranchPoint* BranchPointOfVariant(std::int64_t id) const;
  std::uint32_t NodeIndex(std::int64_t id) const;  // kNoIndex when absent

  // The node's playable length: its duration, or when unknown the latest hide_at of its
  // branch points (0 without any).
  double EffectiveDuration(std::uint32_t node) const { return runtime_[node].end; }

 private:
  friend class detail::BundleLoader;
  friend class Player;
  struct TimelineEntry {
    enum Kind : std::uint8_t { kDeadline = 0, kOpen = 1, kEnd = 2 };
    double time;
    Kind kind;
    std::uint32_t branch_point;
  };
  struct NodeRuntime {
    double end = 0;
    std::vector<TimelineEntry> timeline;  // sorted by (time, kind, branch point)
  };
  struct VariantRef {
    std::uint32_t branch_point;
    std::uint32_t variant;
  };

  std::int64_t root_id_ = 0;
  std::uint32_t root_ = kNoIndex;
  StateSchema schema_;
  std::vector<Node> nodes_;
  std::vector<BranchPoint> branch_points_;
  std::vector<Clip> clips_;
  std::vector<Issue> load_issues_;
  std::vector<NodeRuntime> runtime_;  // parallel to nodes_
  std::unordered_map<std::int64_t, std::uint32_t> node_index_, branch_point_index_;
  std::unordered_map<std::int64_t, VariantRef> variant_index_;
};

// The load issues followed by the graph issues: unreachable_node (not reachable from the root
// through variants), cycle_without_exit (a strongly connected set of nodes none of which can
// reach an ending; a node counts as a possible ending unless one of its branch points surely
// fires, i.e. has a usable variant whose condition is constant true and which its rule would
// pick), format_mismatch (codec, width, height, fps, pixel_format of a variant's node differ
// from its branch point's node; unknown values never mismatch).
std::vector<Issue> Validate(const Bundle& bundle);

// ============================================================================================
// Deterministic PRNG
// ============================================================================================

// xoshiro256** seeded through splitmix64, with its own uniform double: the same seed gives
// the same sequence with every compiler and standard library.
class Rng {
 public:
  explicit Rng(std::uint64_t seed);
  std::uint64_t Next();
  double NextDouble();                   // uniform in [0, 1), 53 bits
  std::uint64_t Below(std::uint64_t n);  // uniform in [0, n), n > 0, unbiased

 private:
  std::array<std::uint64_t, 4> s_;
};

// ============================================================================================
// Player
// ============================================================================================

// How a branch was taken.
enum class Rule : std::uint8_t {
  kChoice,         // Player::Choose
  kDefault,        // timeout rule: the default variant
  kTimeoutRandom,  // timeout rule: weighted random pick
  kConditional,    // conditional branch point: first variant whose condition holds
  kRandom,         // random branch point: weighted random pick
};
std::string_view RuleName(Rule rule);  // "choice", "default", ...

enum class EventKind : std::uint8_t {
  kWindowOpened,   // a manual branch point's window opened (choices may be listed)
  kWindowClosed,   // it reached hide_at without a choice (the timeout rule follows)
  kEffectsFailed,  // a branch taken by a rule had effects that failed (state unchanged)
  kBranchTaken,    // playback left `node` for `target`, starting at 0
  kEnded,          // `node` played to its end: an ending
};
std::string_view EventKindName(EventKind kind);

struct Event {
  EventKind kind;
  double time;                                // time within `node`
  const Node* node;                           // the node playing when it happened
  const BranchPoint* branch_point = nullptr;  // all but kEnded
  const Variant* variant = nullptr;           // kEffectsFailed, kBranchTaken
  const Node* target = nullptr;               // kBranchTaken
  Rule rule = Rule::kChoice;                  // kBranchTaken, kEffectsFailed
};

struct Choice {
  const BranchPoint* branch_point;
  const Variant* variant;
};

// Plays a Bundle (borrowed; must outlive the Player and not move). Not thread-safe.
//
// Time model (docs/bundle-format.md, "Playback"): within a node, a manual branch point's window
// is open for show_at <= t < hide_at; at hide_at its rule applies (manual and automatic: the
// timeout rule; conditional; random). Entries at the same instant run deadlines first (in
// document order), then window openings, then the node's end (an ending). A branch taken
// moves to the variant's node at time 0, and the rest of the advanced time carries over.
// Events at the current time are delivered by the next Advance (or Choose): a new Player
// delivers the root's time-0 events on its first Advance(0).
class Player {
 public:
  Player(const Bundle& bundle, std::uint64_t seed);

  // Back to the root at time 0, the initial state and the PRNG of the construction seed.
  void Reset();

  const Bundle& bundle() const { return *bundle_; }
  const Node* node() const { return node_ == kNoIndex ? nullptr : &bundle_->nodes_[node_]; }
  std::uint32_t node_index() const { return node_; }
  double time() const { return t_; }
  bool ended() const { return ended_; }
  // Time within the current node of the next timeline entry (window, deadline, end);
  // +infinity once ended. Advance(NextEventTime() - time()) runs exactly up to it.
  double NextEventTime() const;

  // Plays `dt` seconds (finite, >= 0), appending the events to `events` (not cleared).
  // Errors: kInvalidValue (bad dt), kStalled (over 65536 branches taken at time 0 in a row).
  Status Advance(double dt, std::vector<Event>& events);

  // The choices open now: for each manual branch point of the node whose window contains the
  // time, its variants whose condition holds (and whose node exists). Replaces `out`.
  void OpenChoices(std::vector<Choice>& out) const;
  std::vector<Choice> OpenChoices() const;

  // Takes variant `variant_id` if it is open now: applies its effects, then moves to its node
  // at time 0 and delivers that node's time-0 events into `events`. Errors (nothing changed):
  // kNotFound, kNotOpen, kEnded, kOverflow (effects), kDanglingTarget, kStalled.
  Status Choose(std::int64_t variant_id, std::vector<Event>& events);
  // The same for a Choice from OpenChoices (of this bundle), skipping the id lookup: the fast
  // path for a game that lists the choices anyway.
  Status Choose(const Choice& choice, std::vector<Event>& events);

  // State.
  const State& state() const { return state_; }
  Result<Literal> Get(std::string_view name) const { return state_.Get(name); }
  // Type-checked; monostate unsets. Errors: kUndeclaredVariable, kTypeMismatch.
  Status Set(std::string_view name, Literal value) { return state_.Set(name, std::move(value)); }

 private:
  struct Pick {
    std::uint32_t variant = kNoIndex;
    Rule rule = Rule::kChoice;
  };
  bool Usable(const Variant& v) const { return v.node != kNoIndex && v.condition.Evaluate(state_); }
  std::uint32_t WeightedPick(const BranchPoint& bp);
  Pick PickAtDeadline(const BranchPoint& bp);
  void MoveTo(std::uint32_t node);
  Status Run(double target, std::vector<Event>& events);
  Status Take(const BranchPoint& bp, const Variant& v, std::vector<Event>& events);

  const Bundle* bundle_;
  std::uint64_t seed_;
  Rng rng_;
  State state_;
  std::uint32_t node_ = kNoIndex;
  double t_ = 0;
  std::size_t cursor_ = 0;  // next timeline entry of the node
  bool ended_ = false;
  std::vector<std::uint8_t> usable_;  // scratch for weighted picks
};

// ============================================================================================
// Implementation
// ============================================================================================

namespace detail {

inline Error MakeError(ErrorCode code, std::string message) {
  return Error{code, std::move(message)};
}

inline std::string FormatDouble(double v) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

// Length of the valid UTF-8 sequence at s[pos] (first byte >= 0x80), or 0 when invalid.
inline std::size_t Utf8SequenceLength(std::string_view s, std::size_t pos) {
  auto at = [&](std::size_t i) -> unsigned {
    return i < s.size() ? static_cast<unsigned char>(s[i]) : 0u;
  };
  unsigned c = at(pos);
  auto cont = [&](std::size_t i, unsigned lo = 0x80, unsigned hi = 0xBF) {
    unsigned b = at(i);
    return b >= lo && b <= hi;
  };
  if (c >= 0xC2 && c <= 0xDF) return cont(pos + 1) ? 2 : 0;
  if (c == 0xE0) return cont(pos + 1, 0xA0) && cont(pos + 2) ? 3 : 0;
  if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF)
    return cont(pos + 1) && cont(pos + 2) ? 3 : 0;
  if (c == 0xED) return cont(pos + 1, 0x80, 0x9F) && cont(pos + 2) ? 3 : 0;
  if (c == 0xF0) return cont(pos + 1, 0x90) && cont(pos + 2) && cont(pos + 3) ? 4 : 0;
  if (c >= 0xF1 && c <= 0xF3) return cont(pos + 1) && cont(pos + 2) && cont(pos + 3) ? 4 : 0;
  if (c == 0xF4) return cont(pos + 1, 0x80, 0x8F) && cont(pos + 2) && cont(pos + 3) ? 4 : 0;
  return 0;
}

inline void AppendUtf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace detail

// --- JSON -----------------------------------------------------------------------------------
namespace json {

inline const std::vector<Member>& Value::as_object() const {
  assert(is_object());
  return object_;
}

inline const Value* Value::Find(std::string_view key) const {
  if (type_ != Type::kObject) return nullptr;
  for (const Member& m : object_) {
    if (m.name == key) return &m.value;
  }
  return nullptr;
}

inline std::string_view Describe(Type type) {
  switch (type) {
    case Type::kNull:
      return "null";
    case Type::kBool:
      return "a boolean";
    case Type::kInt:
      return "an integer";
    case Type::kDouble:
      return "a number";
    case Type::kString:
      return "a string";
    case Type::kArray:
      return "an array";
    case Type::kObject:
      return "an object";
  }
  return "?";
}

// Recursive descent; the recursion depth is bounded by max_depth.
class Parser {
 public:
  Parser(std::string_view text, std::size_t max_depth) : text_(text), max_depth_(max_depth) {}

  Result<Value> Run() {
    Value v;
    SkipSpace();
    if (!ParseValue(v, 0)) return Failure();
    SkipSpace();
    if (pos_ != text_.size()) {
      Fail("trailing characters after the JSON value");
      return Failure();
    }
    return v;
  }

 private:
  Error Failure() const {
    return Error{ErrorCode::kParse, "json: offset " + std::to_string(error_pos_) + ": " + error_};
  }
  bool Fail(std::string message) {
    error_ = std::move(message);
    error_pos_ = pos_;
    return false;
  }
  bool AtEnd() const { return pos_ >= text_.size(); }
  char Peek() const { return text_[pos_]; }
  void SkipSpace() {
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
      ++pos_;
    }
  }
  bool ExpectWord(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return Fail("invalid literal");
    pos_ += word.size();
    return true;
  }

  bool ParseValue(Value& out, std::size_t depth) {
    if (AtEnd()) return Fail("unexpected end of input");
    out.offset_ = pos_;
    switch (Peek()) {
      case 'n':
        out.type_ = Type::kNull;
        return ExpectWord("null");
      case 't':
        out.type_ = Type::kBool;
        out.bool_ = true;
        return ExpectWord("true");
      case 'f':
        out.type_ = Type::kBool;
        out.bool_ = false;
        return ExpectWord("false");
      case '"':
        out.type_ = Type::kString;
        return ParseString(out.string_);
      case '[':
        return ParseArray(out, depth + 1);
      case '{':
        return ParseObject(out, depth + 1);
      default:
        if (Peek() == '-' || (Peek() >= '0' && Peek() <= '9')) return ParseNumber(out);
        return Fail("unexpected character");
    }
  }

  // Elements and members are parsed onto scratch stacks shared by all levels, then moved into
  // an exactly sized vector: one allocation per array or object (allocation dominates).
  bool ParseArray(Value& out, std::size_t depth) {
    if (depth > max_depth_) return Fail("nesting deeper than " + std::to_string(max_depth_));
    out.type_ = Type::kArray;
    ++pos_;  // '['
    SkipSpace();
    if (!AtEnd() && Peek() == ']') {
      ++pos_;
      return true;
    }
    const std::size_t base = values_.size();
    while (true) {
      SkipSpace();
      Value element;
      if (!ParseValue(element, depth)) return false;
      values_.push_back(std::move(element));
      SkipSpace();
      if (AtEnd()) return Fail("unterminated array");
      if (Peek() == ',') {
        ++pos_;
        continue;
      }
      if (Peek() == ']') {
        ++pos_;
        break;
      }
      return Fail("expected ',' or ']'");
    }
    out.array_.reserve(values_.size() - base);
    for (std::size_t i = base; i < values_.size(); ++i) out.array_.push_back(std::move(values_[i]));
    values_.resize(base);
    return true;
  }

  bool ParseObject(Value& out, std::size_t depth) {
    if (depth > max_depth_) return Fail("nesting deeper than " + std::to_string(max_depth_));
    out.type_ = Type::kObject;
    std::size_t start = pos_;
    ++pos_;  // '{'
    SkipSpace();
    if (!AtEnd() && Peek() == '}') {
      ++pos_;
      return true;
    }
    const std::size_t base = members_.size();
    while (true) {
      SkipSpace();
      if (AtEnd()) return Fail("unterminated object");
      if (Peek() != '"') return Fail("expected a member name");
      Member m;
      if (!ParseString(m.name)) return false;
      SkipSpace();
      if (AtEnd() || Peek() != ':') return Fail("expected ':' after a member name");
      ++pos_;
      SkipSpace();
      if (!ParseValue(m.value, depth)) return false;
      members_.push_back(std::move(m));
      SkipSpace();
      if (AtEnd()) return Fail("unterminated object");
      if (Peek() == ',') {
        ++pos_;
        continue;
      }
      if (Peek() == '}') {
        ++pos_;
        break;
      }
      return Fail("expected ',' or '}'");
    }
    out.object_.reserve(members_.size() - base);
    for (std::size_t i = base; i < members_.size(); ++i) {
      out.object_.push_back(std::move(members_[i]));
    }
    members_.resize(base);
    // Duplicate names: pairwise for small objects, sorted views beyond.
    const auto& list = out.object_;
    const std::string* dup = nullptr;
    if (list.size() <= 16) {
      for (std::size_t i = 0; i < list.size() && !dup; ++i) {
        for (std::size_t j = i + 1; j < list.size() && !dup; ++j) {
          if (list[i].name == list[j].name) dup = &list[i].name;
        }
      }
    } else {
      std::vector<const std::string*> names;
      names.reserve(list.size());
      for (const Member& m : list) names.push_back(&m.name);
      std::sort(names.begin(), names.end(),
                [](const std::string* a, const std::string* b) { return *a < *b; });
      for (std::size_t i = 1; i < names.size() && !dup; ++i) {
        if (*names[i - 1] == *names[i]) dup = names[i];
      }
    }
    if (dup != nullptr) {
      pos_ = start;
      return Fail("duplicate member name " + Quote(*dup));
    }
    return true;
  }

  static int HexDigit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }
  // Reads XXXX at pos_ (after "\u").
  bool ReadHex4(std::uint32_t& out) {
    if (text_.size() - pos_ < 4) return Fail("truncated \\u escape");
    out = 0;
    for (int i = 0; i < 4; ++i) {
      int d = HexDigit(text_[pos_ + static_cast<std::size_t>(i)]);
      if (d < 0) return Fail("invalid hex digit in \\u escape");
      out = out * 16 + static_cast<std::uint32_t>(d);
    }
    pos_ += 4;
    return true;
  }

  bool ParseString(std::string& out) {
    ++pos_;  // '"'
    while (true) {
      if (AtEnd()) return Fail("unterminated string");
      auto c = static_cast<unsigned char>(Peek());
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c == '\\') {
        ++pos_;
        if (AtEnd()) return Fail("unterminated string");
        char e = Peek();
        ++pos_;
        switch (e) {
          case '"':
            out.push_back('"');
            break;
          case '\\':
            out.push_back('\\');
            break;
          case '/':
            out.push_back('/');
            break;
          case 'b':
            out.push_back('\b');
            break;
          case 'f':
            out.push_back('\f');
            break;
          case 'n':
            out.push_back('\n');
            break;
          case 'r':
            out.push_back('\r');
            break;
          case 't':
            out.push_back('\t');
            break;
          case 'u': {
            std::uint32_t cp = 0;
            if (!ReadHex4(cp)) return false;
            if (cp >= 0xDC00 && cp <= 0xDFFF) return Fail("lone low surrogate in \\u escape");
            if (cp >= 0xD800 && cp <= 0xDBFF) {
              if (text_.substr(pos_, 2) != "\\u") return Fail("unpaired high surrogate");
              pos_ += 2;
              std::uint32_t low = 0;
              if (!ReadHex4(low)) return false;
              if (low < 0xDC00 || low > 0xDFFF) return Fail("invalid low surrogate");
              cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            }
            detail::AppendUtf8(out, cp);
            break;
          }
          default:
            --pos_;
            return Fail("invalid escape");
        }
        continue;
      }
      if (c < 0x20) return Fail("unescaped control character in string");
      if (c < 0x80) {
        out.push_back(static_cast<char>(c));
        ++pos_;
        continue;
      }
      std::size_t n = detail::Utf8SequenceLength(text_, pos_);
      if (n == 0) return Fail("invalid UTF-8");
      out.append(text_.substr(pos_, n));
      pos_ += n;
    }
  }

  bool IsDigit() const { return !AtEnd() && Peek() >= '0' && Peek() <= '9'; }

  bool ParseNumber(Value& out) {
    std::size_t start = pos_;
    bool integral = true;
    if (Peek() == '-') ++pos_;
    if (!IsDigit()) return Fail("invalid number");
    if (Peek() == '0') {
      ++pos_;
    } else {
      while (IsDigit()) ++pos_;
    }
    if (!AtEnd() && Peek() == '.') {
      integral = false;
      ++pos_;
      if (!IsDigit()) return Fail("expected a digit after '.'");
      while (IsDigit()) ++pos_;
    }
    if (!AtEnd() && (Peek() == 'e' || Peek() == 'E')) {
      integral = false;
      ++pos_;
      if (!AtEnd() && (Peek() == '+' || Peek() == '-')) ++pos_;
      if (!IsDigit()) return Fail("expected a digit in the exponent");
      while (IsDigit()) ++pos_;
    }
    const char* first = text_.data() + start;
    const char* last = text_.data() + pos_;
    if (integral) {
      std::int64_t i = 0;
      auto r = std::from_chars(first, last, i);
      if (r.ec == std::errc() && r.ptr == last) {
        out.type_ = Type::kInt;
        out.int_ = i;
        return true;
      }
      // Beyond int64: a double (not an integer for the bundle).
    }
    double d = 0;
    auto r = std::from_chars(first, last, d);
    if (r.ec != std::errc() || r.ptr != last || !std::isfinite(d)) {
      pos_ = start;
      return Fail("number out of range");
    }
    out.type_ = Type::kDouble;
    out.double_ = d;
    return true;
  }

  std::string_view text_;
  std::size_t max_depth_;
  std::size_t pos_ = 0;
  std::vector<Value> values_;    // scratch: elements of the arrays being parsed
  std::vector<Member> members_;  // scratch: members of the objects being parsed
  std::string error_;
  std::size_t error_pos_ = 0;
};

inline Result<Value> Parse(std::string_view text, ParseOptions options) {
  return Parser(text, options.max_depth).Run();
}

inline std::string Quote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out.push_back('"');
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (ch) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (c < 0x20) {
          static constexpr char kHex[] = "0123456789abcdef";
          out += "\\u00";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xF]);
        } else {
          out.push_back(ch);
        }
    }
  }
  out.push_back('"');
  return out;
}

}  // namespace json

// --- State ----------------------------------------------------------------------------------

inline std::string_view VarTypeName(VarType type) {
  switch (type) {
    case VarType::kBool:
      return "bool";
    case VarType::kInt:
      return "int";
    case VarType::kString:
      return "string";
  }
  return "?";
}

namespace detail {

// Whether `value` (monostate allowed) has type `type`.
inline bool LiteralHasType(const Literal& value, VarType type) {
  switch (value.index()) {
    case 0:
      return true;
    case 1:
      return type == VarType::kBool;
    case 2:
      return type == VarType::kInt;
    case 3:
      return type == VarType::kString;
  }
  return false;
}

inline std::string_view LiteralTypeName(const Literal& value) {
  switch (value.index()) {
    case 1:
      return "bool";
    case 2:
      return "int";
    case 3:
      return "string";
  }
  return "unset";
}

inline std::string LiteralToString(const Literal& value) {
  switch (value.index()) {
    case 1:
      return std::get<1>(value) ? "true" : "false";
    case 2:
      return std::to_string(std::get<2>(value));
    case 3:
      return json::Quote(std::get<3>(value));
  }
  return "unset";
}

// The literal a JSON value denotes for a variable of `type`, or nullopt when its type differs.
inline std::optional<Literal> LiteralFromJson(const json::Value& v, VarType type) {
  if (type == VarType::kBool && v.is_bool()) return Literal(v.as_bool());
  if (type == VarType::kInt && v.is_int()) return Literal(v.as_int());
  if (type == VarType::kString && v.is_string()) return Literal(v.as_string());
  return std::nullopt;
}

}  // namespace detail

inline Status StateSchema::Add(std::string name, VarType type, Literal initial) {
  if (name.empty()) return detail::MakeError(ErrorCode::kInvalidValue, "empty variable name");
  if (index_.count(name) != 0) {
    return detail::MakeError(ErrorCode::kDuplicateId, "variable '" + name + "' declared twice");
  }
  if (!detail::LiteralHasType(initial, type)) {
    return detail::MakeError(ErrorCode::kTypeMismatch,
                             "variable '" + name + "': initial value is " +
                                 std::string(detail::LiteralTypeName(initial)) + ", not " +
                                 std::string(VarTypeName(type)));
  }
  index_.emplace(name, static_cast<std::uint32_t>(vars_.size()));
  vars_.push_back(VariableDecl{std::move(name), type, std::move(initial)});
  return {};
}

inline std::optional<std::uint32_t> StateSchema::Find(std::string_view name) const {
  auto it = index_.find(name);
  if (it == index_.end()) return std::nullopt;
  return it->second;
}

inline State::State(const StateSchema& schema) : schema_(&schema), slots_(schema.size()) {
  Reset();
}

inline void State::Reset() {
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    Slot& s = slots_[i];
    const Literal& init = schema_->variables()[i].initial;
    s.set = init.index() != 0;
    s.b = init.index() == 1 && std::get<1>(init);
    s.i = init.index() == 2 ? std::get<2>(init) : 0;
    s.s = init.index() == 3 ? std::get<3>(init) : std::string();
  }
}

inline Literal State::Get(std::uint32_t slot) const {
  if (slot >= slots_.size() || !slots_[slot].set) return {};
  const Slot& s = slots_[slot];
  switch (schema_->variables()[slot].type) {
    case VarType::kBool:
      return s.b;
    case VarType::kInt:
      return s.i;
    case VarType::kString:
      return s.s;
  }
  return {};
}

inline Status State::Set(std::uint32_t slot, Literal value) {
  if (slot >= slots_.size()) {
    return detail::MakeError(ErrorCode::kNotFound, "no state slot " + std::to_string(slot));
  }
  const VariableDecl& decl = schema_->variables()[slot];
  if (!detail::LiteralHasType(value, decl.type)) {
    return detail::MakeError(ErrorCode::kTypeMismatch,
                             "variable '" + decl.name + "' is " +
                                 std::string(VarTypeName(decl.type)) + ", not " +
                                 std::string(detail::LiteralTypeName(value)));
  }
  Slot& s = slots_[slot];
  s.set = value.index() != 0;
  if (value.index() == 1) s.b = std::get<1>(value);
  if (value.index() == 2) s.i = std::get<2>(value);
  if (value.index() == 3) s.s = std::move(std::get<3>(value));
  return {};
}

inline Result<Literal> State::Get(std::string_view name) const {
  auto slot = schema_->Find(name);
  if (!slot) {
    return detail::MakeError(ErrorCode::kUndeclaredVariable,
                             "undeclared variable '" + std::string(name) + "'");
  }
  return Get(*slot);
}

inline Status State::Set(std::string_view name, Literal value) {
  auto slot = schema_->Find(name);
  if (!slot) {
    return detail::MakeError(ErrorCode::kUndeclaredVariable,
                             "undeclared variable '" + std::string(name) + "'");
  }
  return Set(*slot, std::move(value));
}

// --- Conditions -----------------------------------------------------------------------------

inline Condition Condition::Constant(bool value) {
  Condition c;
  if (!value) c.code_.push_back(Instr{Op::kFalse, 0, 1, 0});
  return c;
}

inline bool Condition::Eval(const State& state, std::size_t pc) const {
  const Instr& in = code_[pc];
  const State::Slot* s = nullptr;
  if (in.op >= Op::kHas) {
    s = &state.slots_[in.slot];
    if (!s->set) return false;  // comparing an unset variable is false (ne included)
  }
  switch (in.op) {
    case Op::kTrue:
      return true;
    case Op::kFalse:
      return false;
    case Op::kAnd:
      for (std::size_t c = pc + 1, end = pc + in.size; c < end; c += code_[c].size) {
        if (!Eval(state, c)) return false;
      }
      return true;
    case Op::kOr:
      for (std::size_t c = pc + 1, end = pc + in.size; c < end; c += code_[c].size) {
        if (Eval(state, c)) return true;
      }
      return false;
    case Op::kNot:
      return !Eval(state, pc + 1);
    case Op::kHas:
      return true;
    case Op::kEqBool:
      return s->b == (in.value != 0);
    case Op::kNeBool:
      return s->b != (in.value != 0);
    case Op::kEqInt:
      return s->i == in.value;
    case Op::kNeInt:
      return s->i != in.value;
    case Op::kLt:
      return s->i < in.value;
    case Op::kLe:
      return s->i <= in.value;
    case Op::kGt:
      return s->i > in.value;
    case Op::kGe:
      return s->i >= in.value;
    case Op::kEqString:
      return s->s == strings_[static_cast<std::size_t>(in.value)];
    case Op::kNeString:
      return s->s != strings_[static_cast<std::size_t>(in.value)];
  }
  return false;
}

namespace detail {

inline constexpr std::size_t kMaxExpressionDepth = 64;

class ConditionCompiler {
 public:
  ConditionCompiler(const StateSchema& schema, Condition& out) : schema_(schema), out_(out) {}

  Status Compile(const json::Value& v, std::size_t depth) {
    using Op = Condition::Op;
    if (depth > kMaxExpressionDepth) {
      return MakeError(ErrorCode::kInvalidExpression, "expression nested too deeply");
    }
    if (v.is_null() || v.is_bool()) {
      Emit(v.is_bool() && !v.as_bool() ? Op::kFalse : Op::kTrue, 0, 0);
      return {};
    }
    if (!v.is_object()) {
      return MakeError(ErrorCode::kInvalidExpression,
                       "expected an expression (null, true, false or an object), got " +
                           std::string(json::Describe(v.type())));
    }
    const auto& members = v.as_object();
    if (members.size() != 1) {
      return MakeError(
          ErrorCode::kInvalidExpression,
          "an expression object has exactly one member, got " + std::to_string(members.size()));
    }
    const std::string& op = members[0].name;
    const json::Value& arg = members[0].value;
    if (op == "and" || op == "or") {
      if (!arg.is_array() || arg.as_array().empty()) {
        return MakeError(ErrorCode::kInvalidExpression,
                         "'" + op + "' takes a non-empty array of expressions");
      }
      std::size_t at = Emit(op == "and" ? Op::kAnd : Op::kOr, 0, 0);
      for (const json::Value& child : arg.as_array()) {
        if (auto s = Compile(child, depth + 1); !s.ok()) return s;
      }
      Close(at);
      return {};
    }
    if (op == "not") {
      std::size_t at = Emit(Op::kNot, 0, 0);
      if (auto s = Compile(arg, depth + 1); !s.ok()) return s;
      Close(at);
      return {};
    }
    if (op == "has") {
      if (!arg.is_string()) {
        return MakeError(ErrorCode::kInvalidExpression, "'has' takes a variable name");
      }
      auto slot = Lookup(arg.as_string());
      if (!slot.ok()) return slot.error();
      Emit(Op::kHas, *slot, 0);
      return {};
    }
    bool eq = op == "eq", ne = op == "ne";
    bool order = op == "lt" || op == "le" || op == "gt" || op == "ge";
    if (!eq && !ne && !order) {
      return MakeError(ErrorCode::kInvalidExpression, "unknown operator '" + op + "'");
    }
    if (!arg.is_array() || arg.as_array().size() != 2 || !arg.as_array()[0].is_string()) {
      return MakeError(ErrorCode::kInvalidExpression, "'" + op + "' takes [\"variable\", literal]");
    }
    const std::string& name = arg.as_array()[0].as_string();
    const json::Value& lit = arg.as_array()[1];
    auto slot = Lookup(name);
    if (!slot.ok()) return slot.error();
    VarType type = schema_.variables()[*slot].type;
    if (order && type != VarType::kInt) {
      return MakeError(ErrorCode::kTypeMismatch, "'" + op + "' needs an int variable; '" + name +
                                                     "' is " + std::string(VarTypeName(type)));
    }
    auto literal = LiteralFromJson(lit, type);
    if (!literal) {
      return MakeError(ErrorCode::kTypeMismatch,
                       "'" + op + "' compares " + std::string(VarTypeName(type)) + " variable '" +
                           name + "' with " + std::string(json::Describe(lit.type())));
    }
    switch (type) {
      case VarType::kBool:
        Emit(eq ? Op::kEqBool : Op::kNeBool, *slot, std::get<bool>(*literal) ? 1 : 0);
        break;
      case VarType::kInt: {
        Op o = eq           ? Op::kEqInt
               : ne         ? Op::kNeInt
               : op == "lt" ? Op::kLt
               : op == "le" ? Op::kLe
               : op == "gt" ? Op::kGt
                            : Op::kGe;
        Emit(o, *slot, std::get<std::int64_t>(*literal));
        break;
      }
      case VarType::kString:
        out_.strings_.push_back(std::get<std::string>(*literal));
        Emit(eq ? Op::kEqString : Op::kNeString, *slot,
             static_cast<std::int64_t>(out_.strings_.size() - 1));
        break;
    }
    return {};
  }

 private:
  std::size_t Emit(Condition::Op op, std::uint32_t slot, std::int64_t value) {
    out_.code_.push_back(Condition::Instr{op, slot, 1, value});
    return out_.code_.size() - 1;
  }
  void Close(std::size_t at) {
    out_.code_[at].size = static_cast<std::uint32_t>(out_.code_.size() - at);
  }
  Result<std::uint32_t> Lookup(const std::string& name) {
    auto slot = schema_.Find(name);
    if (!slot)
      return MakeError(ErrorCode::kUndeclaredVariable, "undeclared variable '" + name + "'");
    return *slot;
  }

  const StateSchema& schema_;
  Condition& out_;
};

inline Error Prefixed(std::string_view prefix, const Error& e) {
  return Error{e.code, std::string(prefix) + e.message};
}

}  // namespace detail

inline Result<Condition> CompileCondition(const json::Value& value, const StateSchema& schema) {
  Condition c;
  detail::ConditionCompiler compiler(schema, c);
  if (auto s = compiler.Compile(value, 0); !s.ok())
    return detail::Prefixed("condition: ", s.error());
  if (c.IsAlwaysTrue()) return Condition();
  return c;
}

inline Result<Condition> CompileCondition(std::string_view json_text, const StateSchema& schema) {
  auto v = json::Parse(json_text);
  if (!v.ok()) return detail::Prefixed("condition: ", v.error());
  return CompileCondition(*v, schema);
}

// --- Effects --------------------------------------------------------------------------------

namespace detail {

// a + b without overflow, or false.
inline bool CheckedAdd(std::int64_t a, std::int64_t b, std::int64_t& out) {
  if ((b > 0 && a > std::numeric_limits<std::int64_t>::max() - b) ||
      (b < 0 && a < std::numeric_limits<std::int64_t>::min() - b)) {
    return false;
  }
  out = a + b;
  return true;
}

class EffectsCompiler {
 public:
  EffectsCompiler(const StateSchema& schema, Effects& out) : schema_(schema), out_(out) {}

  Status Compile(const json::Value& v) {
    if (v.is_null()) return {};
    if (!v.is_array()) {
      return MakeError(ErrorCode::kInvalidExpression,
                       "effects: expected an array, got " + std::string(json::Describe(v.type())));
    }
    const auto& list = v.as_array();
    for (std::size_t i = 0; i < list.size(); ++i) {
      if (auto s = CompileOne(list[i]); !s.ok()) {
        return Prefixed("effects[" + std::to_string(i) + "]: ", s.error());
      }
    }
    return {};
  }

 private:
  Status CompileOne(const json::Value& e) {
    using Op = Effects::Op;
    if (!e.is_object()) {
      return MakeError(ErrorCode::kInvalidExpression,
                       "expected an object, got " + std::string(json::Describe(e.type())));
    }
    const json::Value* set = e.Find("set");
    const json::Value* add = e.Find("add");
    const json::Value* unset = e.Find("unset");
    int forms = (set != nullptr) + (add != nullptr) + (unset != nullptr);
    if (forms != 1) {
      return MakeError(ErrorCode::kInvalidExpression,
                       "an effect has exactly one of 'set', 'add', 'unset'");
    }
    const json::Value* value = e.Find("value");
    std::size_t expected_members = unset != nullptr ? 1 : 2;
    if (e.as_object().size() != expected_members || (unset == nullptr && value == nullptr)) {
      return MakeError(ErrorCode::kInvalidExpression,
                       unset != nullptr
                           ? std::string("'unset' takes no other member")
                           : std::string("'") + (set ? "set" : "add") +
                                 "' takes exactly the members 'value' and the variable");
    }
    const json::Value* target = set ? set : add ? add : unset;
    const char* op_name = set ? "set" : add ? "add" : "unset";
    if (!target->is_string()) {
      return MakeError(ErrorCode::kInvalidExpression,
                       std::string("'") + op_name + "' takes a variable name");
    }
    const std::string& name = target->as_string();
    auto slot = schema_.Find(name);
    if (!slot)
      return MakeError(ErrorCode::kUndeclaredVariable, "undeclared variable '" + name + "'");
    VarType type = schema_.variables()[*slot].type;
    Effects::Instr in{Op::kUnset, *slot, -1, 0, {}};
    if (add != nullptr) {
      if (type != VarType::kInt) {
        return MakeError(ErrorCode::kTypeMismatch, "'add' needs an int variable; '" + name +
                                                       "' is " + std::string(VarTypeName(type)));
      }
      if (!value->is_int()) {
        return MakeError(ErrorCode::kTypeMismatch, "'add' to '" + name +
                                                       "' takes an integer, got " +
                                                       std::string(json::Describe(value->type())));
      }
      in.op = Op::kAdd;
      in.value = value->as_int();
      out_.has_add_ = true;
    } else if (set != nullptr) {
      auto literal = LiteralFromJson(*value, type);
      if (!literal) {
        return MakeError(ErrorCode::kTypeMismatch, "'set' of " + std::string(VarTypeName(type)) +
                                                       " variable '" + name + "' to " +
                                                       std::string(json::Describe(value->type())));
      }
      if (type == VarType::kBool) {
        in.op = Op::kSetBool;
        in.value = std::get<bool>(*literal) ? 1 : 0;
      } else if (type == VarType::kInt) {
        in.op = Op::kSetInt;
        in.value = std::get<std::int64_t>(*literal);
      } else {
        in.op = Op::kSetString;
        in.text = std::get<std::string>(*literal);
      }
    }
    for (std::size_t j = out_.ops_.size(); j-- > 0;) {
      if (out_.ops_[j].slot == in.slot) {
        in.prev = static_cast<std::int32_t>(j);
        break;
      }
    }
    out_.ops_.push_back(std::move(in));
    return {};
  }

  const StateSchema& schema_;
  Effects& out_;
};

}  // namespace detail

inline Status Effects::Apply(State& state) const {
  if (has_add_) {
    // Dry run of the adds: the value after each op on an int slot, to refuse an overflow
    // before anything changes. Effect lists are short; longer ones use the heap.
    std::array<std::int64_t, 16> small{};
    std::vector<std::int64_t> large;
    std::int64_t* after = small.data();
    if (ops_.size() > small.size()) {
      large.resize(ops_.size());
      after = large.data();
    }
    for (std::size_t k = 0; k < ops_.size(); ++k) {
      const Instr& in = ops_[k];
      if (in.op == Op::kSetInt) after[k] = in.value;
      if (in.op == Op::kUnset) after[k] = 0;
      if (in.op != Op::kAdd) continue;
      std::int64_t before = 0;
      if (in.prev >= 0) {
        before = after[in.prev];
      } else if (state.slots_[in.slot].set) {
        before = state.slots_[in.slot].i;
      }
      if (!detail::CheckedAdd(before, in.value, after[k])) {
        return detail::MakeError(ErrorCode::kOverflow,
                                 "effects[" + std::to_string(k) + "]: add " +
                                     std::to_string(in.value) + " to '" +
                                     state.schema().variables()[in.slot].name + "' (" +
                                     std::to_string(before) + ") overflows int64; state unchanged");
      }
    }
  }
  for (const Instr& in : ops_) {
    State::Slot& s = state.slots_[in.slot];
    switch (in.op) {
      case Op::kSetBool:
        s.b = in.value != 0;
        s.set = true;
        break;
      case Op::kSetInt:
        s.i = in.value;
        s.set = true;
        break;
      case Op::kSetString:
        s.s.assign(in.text);
        s.set = true;
        break;
      case Op::kAdd:
        s.i = (s.set ? s.i : 0) + in.value;
        s.set = true;
        break;
      case Op::kUnset:
        s.set = false;
        break;
    }
  }
  return {};
}

inline Result<Effects> CompileEffects(const json::Value& value, const StateSchema& schema) {
  Effects e;
  detail::EffectsCompiler compiler(schema, e);
  if (auto s = compiler.Compile(value); !s.ok()) return s.error();
  return e;
}

inline Result<Effects> CompileEffects(std::string_view json_text, const StateSchema& schema) {
  auto v = json::Parse(json_text);
  if (!v.ok()) return detail::Prefixed("effects: ", v.error());
  return CompileEffects(*v, schema);
}

// --- Names and issue JSON -------------------------------------------------------------------

inline std::string_view IssueKindName(IssueKind kind) {
  switch (kind) {
    case IssueKind::kDanglingTarget:
      return "dangling_target";
    case IssueKind::kUnreachableNode:
      return "unreachable_node";
    case IssueKind::kCycleWithoutExit:
      return "cycle_without_exit";
    case IssueKind::kUndeclaredVariable:
      return "undeclared_variable";
    case IssueKind::kTypeMismatch:
      return "type_mismatch";
    case IssueKind::kFormatMismatch:
      return "format_mismatch";
    case IssueKind::kInvalidExpression:
      return "invalid_expression";
    case IssueKind::kInvalidValue:
      return "invalid_value";
    case IssueKind::kDuplicateId:
      return "duplicate_id";
  }
  return "?";
}

inline std::string_view BranchTypeName(BranchType type) {
  switch (type) {
    case BranchType::kManual:
      return "manual";
    case BranchType::kAutomatic:
      return "automatic";
    case BranchType::kConditional:
      return "conditional";
    case BranchType::kRandom:
      return "random";
  }
  return "?";
}

inline std::string_view RuleName(Rule rule) {
  switch (rule) {
    case Rule::kChoice:
      return "choice";
    case Rule::kDefault:
      return "default";
    case Rule::kTimeoutRandom:
      return "timeout_random";
    case Rule::kConditional:
      return "conditional";
    case Rule::kRandom:
      return "random";
  }
  return "?";
}

inline std::string_view EventKindName(EventKind kind) {
  switch (kind) {
    case EventKind::kWindowOpened:
      return "window_opened";
    case EventKind::kWindowClosed:
      return "window_closed";
    case EventKind::kEffectsFailed:
      return "effects_failed";
    case EventKind::kBranchTaken:
      return "branch_taken";
    case EventKind::kEnded:
      return "ended";
  }
  return "?";
}

inline std::string IssueToJson(const Issue& issue) {
  std::string out = "{\"kind\":" + json::Quote(IssueKindName(issue.kind)) +
                    ",\"message\":" + json::Quote(issue.message) + ",\"ids\":{";
  bool first = true;
  auto field = [&](std::string_view name, const std::string& value) {
    if (!first) out += ',';
    first = false;
    out += json::Quote(name) + ":" + value;
  };
  const IssueIds& ids = issue.ids;
  if (ids.branch_point) field("branch_point", std::to_string(*ids.branch_point));
  if (ids.variant) field("variant", std::to_string(*ids.variant));
  if (ids.clip) field("clip", std::to_string(*ids.clip));
  if (ids.node) field("node", std::to_string(*ids.node));
  if (!ids.nodes.empty()) {
    std::string list = "[";
    for (std::size_t i = 0; i < ids.nodes.size(); ++i) {
      list += (i ? "," : "") + std::to_string(ids.nodes[i]);
    }
    field("nodes", list + "]");
  }
  if (!ids.variable.empty()) field("variable", json::Quote(ids.variable));
  out += '}';
  if (!issue.fields.empty()) {
    out += ",\"fields\":[";
    for (std::size_t i = 0; i < issue.fields.size(); ++i) {
      out += (i ? "," : "") + json::Quote(issue.fields[i]);
    }
    out += ']';
  }
  return out + '}';
}

inline std::string ValidationToJson(const std::vector<Issue>& issues) {
  std::string out = issues.empty() ? "{\"ok\":true,\"issues\":[" : "{\"ok\":false,\"issues\":[";
  for (std::size_t i = 0; i < issues.size(); ++i) out += (i ? "," : "") + IssueToJson(issues[i]);
  return out + "]}";
}

// --- Loading --------------------------------------------------------------------------------

namespace detail {

inline IssueKind IssueKindOf(ErrorCode code) {
  switch (code) {
    case ErrorCode::kUndeclaredVariable:
      return IssueKind::kUndeclaredVariable;
    case ErrorCode::kTypeMismatch:
      return IssueKind::kTypeMismatch;
    case ErrorCode::kDuplicateId:
      return IssueKind::kDuplicateId;
    case ErrorCode::kDanglingTarget:
      return IssueKind::kDanglingTarget;
    case ErrorCode::kInvalidExpression:
      return IssueKind::kInvalidExpression;
    default:
      return IssueKind::kInvalidValue;
  }
}

inline ErrorCode ErrorCodeOf(IssueKind kind) {
  switch (kind) {
    case IssueKind::kUndeclaredVariable:
      return ErrorCode::kUndeclaredVariable;
    case IssueKind::kTypeMismatch:
      return ErrorCode::kTypeMismatch;
    case IssueKind::kDuplicateId:
      return ErrorCode::kDuplicateId;
    case IssueKind::kDanglingTarget:
      return ErrorCode::kDanglingTarget;
    case IssueKind::kInvalidExpression:
      return ErrorCode::kInvalidExpression;
    default:
      return ErrorCode::kInvalidValue;
  }
}

// Typed member access for the structural checks (hard errors: kInvalidValue).
class Fields {
 public:
  Fields(const json::Value& object, std::string context)
      : object_(object), context_(std::move(context)) {}
  const std::string& context() const { return context_; }
  void set_context(std::string context) { context_ = std::move(context); }

  Status Int(std::string_view key, std::int64_t& out) const {
    const json::Value* v = object_.Find(key);
    if (v == nullptr || !v->is_int()) return Bad(key, "an integer", v);
    out = v->as_int();
    return {};
  }
  Status OptInt(std::string_view key, std::optional<std::int64_t>& out) const {
    const json::Value* v = object_.Find(key);
    if (v == nullptr || v->is_null()) return {};
    if (!v->is_int()) return Bad(key, "an integer or null", v);
    out = v->as_int();
    return {};
  }
  Status Number(std::string_view key, double& out) const {
    const json::Value* v = object_.Find(key);
    if (v == nullptr || !v->is_number()) return Bad(key, "a number", v);
    out = v->as_number();
    return {};
  }
  Status OptNumber(std::string_view key, std::optional<double>& out) const {
    const json::Value* v = object_.Find(key);
    if (v == nullptr || v->is_null()) return {};
    if (!v->is_number()) return Bad(key, "a number or null", v);
    out = v->as_number();
    return {};
  }
  Status String(std::string_view key, std::string& out) const {
    const json::Value* v = object_.Find(key);
    if (v == nullptr || !v->is_string()) return Bad(key, "a string", v);
    out = v->as_string();
    return {};
  }
  Status OptString(std::string_view key, std::optional<std::string>& out) const {
    const json::Value* v = object_.Find(key);
    if (v == nullptr || v->is_null()) return {};
    if (!v->is_string()) return Bad(key, "a string or null", v);
    out = v->as_string();
    return {};
  }
  // A string, "" when missing or null.
  Status Text(std::string_view key, std::string& out) const {
    std::optional<std::string> s;
    if (auto st = OptString(key, s); !st.ok()) return st;
    out = s.value_or("");
    return {};
  }
  // An array (nullptr when missing or null and `required` is false).
  Status Array(std::string_view key, bool required, const json::Value*& out) const {
    const json::Value* v = object_.Find(key);
    out = nullptr;
    if ((v == nullptr || v->is_null()) && !required) return {};
    if (v == nullptr || !v->is_array()) return Bad(key, "an array", v);
    out = v;
    return {};
  }

 private:
  Error Bad(std::string_view key, std::string_view expected, const json::Value* got) const {
    return MakeError(ErrorCode::kInvalidValue,
                     context_ + ": " + std::string(key) + ": expected " + std::string(expected) +
                         (got ? ", got " + std::string(json::Describe(got->type()))
                              : std::string(" (missing)")));
  }
  const json::Value& object_;
  std::string context_;
};

#define PIXVAULT_BRANCH_TRY(expr)                                              \
  do {                                                                         \
    if (auto pv_status_ = (expr); !pv_status_.ok()) return pv_status_.error(); \
  } while (false)

inline Status RequireObject(const json::Value& v, const std::string& context) {
  if (v.is_object()) return {};
  return MakeError(ErrorCode::kInvalidValue,
                   context + ": expected an object, got " + std::string(json::Describe(v.type())));
}

// Decodes a `state` array into `schema`, reporting semantic problems through `report`.
template <class Report>
Status DecodeState(const json::Value& list, StateSchema& schema, Report&& report) {
  const auto& items = list.as_array();
  for (std::size_t i = 0; i < items.size(); ++i) {
    std::string context = "state[" + std::to_string(i) + "]";
    PIXVAULT_BRANCH_TRY(RequireObject(items[i], context));
    Fields f(items[i], context);
    std::string name, type_name;
    PIXVAULT_BRANCH_TRY(f.String("name", name));
    PIXVAULT_BRANCH_TRY(f.String("type", type_name));
    IssueIds ids;
    ids.variable = name;
    VarType type;
    if (type_name == "bool") {
      type = VarType::kBool;
    } else if (type_name == "int") {
      type = VarType::kInt;
    } else if (type_name == "string") {
      type = VarType::kString;
    } else {
      report(IssueKind::kInvalidValue,
             "variable '" + name + "': unknown type '" + type_name +
                 "' (expected bool, int or string)",
             ids);
      continue;
    }
    Literal initial;
    if (const json::Value* init = items[i].Find("initial"); init && !init->is_null()) {
      auto lit = LiteralFromJson(*init, type);
      if (!lit) {
        report(IssueKind::kTypeMismatch,
               "variable '" + name + "': initial value is " +
                   std::string(json::Describe(init->type())) + ", not " +
                   std::string(VarTypeName(type)),
               ids);
      } else {
        initial = std::move(*lit);
      }
    }
    if (auto s = schema.Add(name, type, std::move(initial)); !s.ok()) {
      report(IssueKindOf(s.error().code), s.error().message, ids);
    }
  }
  return {};
}

class BundleLoader {
 public:
  explicit BundleLoader(LoadMode mode) : mode_(mode) {}

  Result<Bundle> Load(std::string_view text) {
    auto parsed = json::Parse(text);
    if (!parsed.ok()) return parsed.error();
    const json::Value& doc = *parsed;
    if (!doc.is_object()) {
      return MakeError(ErrorCode::kInvalidValue, "bundle: expected a JSON object, got " +
                                                     std::string(json::Describe(doc.type())));
    }
    const json::Value* format = doc.Find("format");
    if (format == nullptr || !format->is_string() || format->as_string() != "pixvault.bundle") {
      return MakeError(ErrorCode::kUnsupported, "bundle: format is not \"pixvault.bundle\"");
    }
    const json::Value* version = doc.Find("version");
    if (version == nullptr || !version->is_int() || version->as_int() != 1) {
      return MakeError(ErrorCode::kUnsupported,
                       "bundle: unsupported version (this reader "
                       "reads version 1)");
    }
    Fields f(doc, "bundle");
    PIXVAULT_BRANCH_TRY(f.Int("root", b_.root_id_));
    const json::Value *state = nullptr, *nodes = nullptr, *bps = nullptr, *clips = nullptr;
    PIXVAULT_BRANCH_TRY(f.Array("state", false, state));
    PIXVAULT_BRANCH_TRY(f.Array("nodes", true, nodes));
    PIXVAULT_BRANCH_TRY(f.Array("branch_points", false, bps));
    PIXVAULT_BRANCH_TRY(f.Array("clips", false, clips));
    if (state) {
      PIXVAULT_BRANCH_TRY(DecodeState(
          *state, b_.schema_,
          [&](IssueKind k, std::string m, const IssueIds& ids) { Report(k, std::move(m), ids); }));
    }
    PIXVAULT_BRANCH_TRY(DecodeNodes(*nodes));
    if (bps) PIXVAULT_BRANCH_TRY(DecodeBranchPoints(*bps));
    if (clips) PIXVAULT_BRANCH_TRY(DecodeClips(*clips));
    b_.root_ = b_.NodeIndex(b_.root_id_);
    if (b_.root_ == kNoIndex) {
      IssueIds ids;
      ids.node = b_.root_id_;
      Report(IssueKind::kDanglingTarget,
             "root " + std::to_string(b_.root_id_) + " is not a node of the bundle", ids);
    }
    BuildTimelines();
    if (mode_ == LoadMode::kStrict && !issues_.empty()) {
      const Issue& first = issues_.front();
      std::string more =
          issues_.size() > 1 ? " (and " + std::to_string(issues_.size() - 1) + " more issues)" : "";
      return MakeError(ErrorCodeOf(first.kind), first.message + more);
    }
    b_.load_issues_ = std::move(issues_);
    return std::move(b_);
  }

 private:
  void Report(IssueKind kind, std::string message, IssueIds ids) {
    issues_.push_back(Issue{kind, std::move(message), std::move(ids), {}});
  }

  Status DecodeNodes(const json::Value& list) {
    b_.nodes_.reserve(list.as_array().size());
    b_.node_index_.reserve(list.as_array().size());
    for (std::size_t i = 0; i < list.as_array().size(); ++i) {
      const json::Value& item = list.as_array()[i];
      std::string context = "nodes[" + std::to_string(i) + "]";
      PIXVAULT_BRANCH_TRY(RequireObject(item, context));
      Fields f(item, context);
      Node n;
      PIXVAULT_BRANCH_TRY(f.Int("id", n.id));
      f.set_context("node " + std::to_string(n.id));
      PIXVAULT_BRANCH_TRY(f.Text("sha256", n.sha256));
      PIXVAULT_BRANCH_TRY(f.Text("media_type", n.media_type));
      PIXVAULT_BRANCH_TRY(f.Text("mime_type", n.mime_type));
      PIXVAULT_BRANCH_TRY(f.OptInt("size_bytes", n.size_bytes));
      PIXVAULT_BRANCH_TRY(f.OptNumber("duration", n.duration));
      PIXVAULT_BRANCH_TRY(f.OptNumber("fps", n.fps));
      PIXVAULT_BRANCH_TRY(f.OptInt("width", n.width));
      PIXVAULT_BRANCH_TRY(f.OptInt("height", n.height));
      PIXVAULT_BRANCH_TRY(f.OptString("codec", n.codec));
      PIXVAULT_BRANCH_TRY(f.OptString("pixel_format", n.pixel_format));
      PIXVAULT_BRANCH_TRY(f.OptString("file", n.file));
      PIXVAULT_BRANCH_TRY(f.OptString("url", n.url));
      IssueIds ids;
      ids.node = n.id;
      if (b_.node_index_.count(n.id) != 0) {
        Report(IssueKind::kDuplicateId, f.context() + ": id given twice", ids);
        continue;
      }
      if (n.duration && *n.duration < 0) {
        Report(IssueKind::kInvalidValue,
               f.context() + ": negative duration " + FormatDouble(*n.duration), ids);
        n.duration.reset();
      }
      b_.node_index_.emplace(n.id, static_cast<std::uint32_t>(b_.nodes_.size()));
      b_.nodes_.push_back(std::move(n));
    }
    return {};
  }

  Status DecodeBranchPoints(const json::Value& list) {
    b_.branch_points_.reserve(list.as_array().size());
    b_.branch_point_index_.reserve(list.as_array().size());
    for (std::size_t i = 0; i < list.as_array().size(); ++i) {
      const json::Value& item = list.as_array()[i];
      std::string context = "branch_points[" + std::to_string(i) + "]";
      PIXVAULT_BRANCH_TRY(RequireObject(item, context));
      Fields f(item, context);
      BranchPoint bp;
      PIXVAULT_BRANCH_TRY(f.Int("id", bp.id));
      const std::string ctx = "branch point " + std::to_string(bp.id);
      f.set_context(ctx);
      std::string type_name;
      std::optional<double> show_at, hide_at;
      const json::Value* variants = nullptr;
      const json::Value* prefetch = nullptr;
      PIXVAULT_BRANCH_TRY(f.Int("node", bp.node_id));
      PIXVAULT_BRANCH_TRY(f.Text("name", bp.name));
      PIXVAULT_BRANCH_TRY(f.OptString("tag", bp.tag));
      PIXVAULT_BRANCH_TRY(f.String("type", type_name));
      PIXVAULT_BRANCH_TRY(f.Number("time", bp.time));
      PIXVAULT_BRANCH_TRY(f.OptInt("frame", bp.frame));
      PIXVAULT_BRANCH_TRY(f.OptNumber("show_at", show_at));
      PIXVAULT_BRANCH_TRY(f.OptNumber("hide_at", hide_at));
      PIXVAULT_BRANCH_TRY(f.OptInt("default_variant", bp.default_variant_id));
      PIXVAULT_BRANCH_TRY(f.Array("variants", true, variants));
      PIXVAULT_BRANCH_TRY(f.Array("prefetch", false, prefetch));
      bp.show_at = show_at.value_or(bp.time);
      bp.hide_at = hide_at.value_or(bp.time);

      IssueIds ids;
      ids.branch_point = bp.id;
      if (b_.branch_point_index_.count(bp.id) != 0) {
        Report(IssueKind::kDuplicateId, ctx + ": id given twice", ids);
        continue;
      }
      if (type_name == "manual") {
        bp.type = BranchType::kManual;
      } else if (type_name == "automatic") {
        bp.type = BranchType::kAutomatic;
      } else if (type_name == "conditional") {
        bp.type = BranchType::kConditional;
      } else if (type_name == "random") {
        bp.type = BranchType::kRandom;
      } else {
        Report(IssueKind::kInvalidValue,
               ctx + ": unknown type '" + type_name +
                   "' (expected manual, automatic, conditional or random)",
               ids);
        bp.type = BranchType::kAutomatic;
      }
      bp.node = b_.NodeIndex(bp.node_id);
      if (bp.node == kNoIndex) {
        IssueIds d = ids;
        d.node = bp.node_id;
        Report(IssueKind::kDanglingTarget,
               ctx + ": node " + std::to_string(bp.node_id) + " is not in the bundle", d);
      }
      if (bp.show_at > bp.hide_at) {
        Report(IssueKind::kInvalidValue,
               ctx + ": show_at " + FormatDouble(bp.show_at) + " is after hide_at " +
                   FormatDouble(bp.hide_at),
               ids);
        bp.show_at = bp.hide_at;
      }
      if (bp.show_at < 0 || bp.time < 0) {
        Report(IssueKind::kInvalidValue, ctx + ": negative time", ids);
      }
      if (bp.node != kNoIndex) {
        const auto& duration = b_.nodes_[bp.node].duration;
        if (duration && (bp.hide_at > *duration || bp.time > *duration)) {
          Report(IssueKind::kInvalidValue,
                 ctx + ": time/hide_at beyond the duration " + FormatDouble(*duration) +
                     " of node " + std::to_string(bp.node_id),
                 ids);
        }
      }
      for (std::size_t j = 0; j < variants->as_array().size(); ++j) {
        PIXVAULT_BRANCH_TRY(DecodeVariant(variants->as_array()[j], ctx, j, bp));
      }
      if (bp.default_variant_id) {
        for (std::size_t j = 0; j < bp.variants.size(); ++j) {
          if (bp.variants[j].id == *bp.default_variant_id) {
            bp.default_variant = static_cast<std::uint32_t>(j);
          }
        }
        if (bp.default_variant == kNoIndex) {
          IssueIds d = ids;
          d.variant = *bp.default_variant_id;
          Report(IssueKind::kDanglingTarget,
                 ctx + ": default_variant " + std::to_string(*bp.default_variant_id) +
                     " is not one of its variants",
                 d);
        }
      }
      if (prefetch) {
        for (const json::Value& p : prefetch->as_array()) {
          PIXVAULT_BRANCH_TRY(RequireObject(p, ctx + ": prefetch"));
          Fields pf(p, ctx + ": prefetch");
          Prefetch pre;
          PIXVAULT_BRANCH_TRY(pf.Int("node", pre.node_id));
          PIXVAULT_BRANCH_TRY(pf.Int("bytes", pre.bytes));
          bp.prefetch.push_back(pre);
        }
      }
      auto index = static_cast<std::uint32_t>(b_.branch_points_.size());
      for (std::size_t j = 0; j < bp.variants.size(); ++j) {
        b_.variant_index_.emplace(bp.variants[j].id,
                                  Bundle::VariantRef{index, static_cast<std::uint32_t>(j)});
      }
      if (bp.node != kNoIndex) b_.nodes_[bp.node].branch_points.push_back(index);
      b_.branch_point_index_.emplace(bp.id, index);
      b_.branch_points_.push_back(std::move(bp));
    }
    return {};
  }

  Status DecodeVariant(const json::Value& item, const std::string& bp_context, std::size_t j,
                       BranchPoint& bp) {
    std::string context = bp_context + ", variants[" + std::to_string(j) + "]";
    PIXVAULT_BRANCH_TRY(RequireObject(item, context));
    Fields f(item, context);
    Variant v;
    PIXVAULT_BRANCH_TRY(f.Int("id", v.id));
    const std::string ctx = bp_context + ", variant " + std::to_string(v.id);
    f.set_context(ctx);
    std::optional<double> weight;
    PIXVAULT_BRANCH_TRY(f.Int("node", v.node_id));
    PIXVAULT_BRANCH_TRY(f.Text("name", v.name));
    PIXVAULT_BRANCH_TRY(f.OptString("tag", v.tag));
    PIXVAULT_BRANCH_TRY(f.OptNumber("weight", weight));
    IssueIds ids;
    ids.branch_point = bp.id;
    ids.variant = v.id;
    if (b_.variant_index_.count(v.id) != 0 || FindLocal(bp, v.id)) {
      Report(IssueKind::kDuplicateId, ctx + ": id given twice", ids);
      return {};
    }
    v.weight = weight.value_or(1.0);
    if (!(v.weight >= 0)) {
      Report(IssueKind::kInvalidValue, ctx + ": weight " + FormatDouble(v.weight) + " is negative",
             ids);
      v.weight = 0;
    }
    v.node = b_.NodeIndex(v.node_id);
    if (v.node == kNoIndex) {
      IssueIds d = ids;
      d.node = v.node_id;
      Report(IssueKind::kDanglingTarget,
             ctx + ": node " + std::to_string(v.node_id) + " is not in the bundle", d);
    }
    static const json::Value kNull;
    const json::Value* condition = item.Find("condition");
    auto c = CompileCondition(condition ? *condition : kNull, b_.schema_);
    if (c.ok()) {
      v.condition = std::move(*c);
    } else {
      Report(IssueKindOf(c.error().code), ctx + ": " + c.error().message, ids);
      v.condition = Condition::Constant(false);
    }
    const json::Value* effects = item.Find("effects");
    auto e = CompileEffects(effects ? *effects : kNull, b_.schema_);
    if (e.ok()) {
      v.effects = std::move(*e);
    } else {
      Report(IssueKindOf(e.error().code), ctx + ": " + e.error().message, ids);
    }
    bp.variants.push_back(std::move(v));
    return {};
  }

  static bool FindLocal(const BranchPoint& bp, std::int64_t id) {
    for (const Variant& v : bp.variants) {
      if (v.id == id) return true;
    }
    return false;
  }

  Status DecodeClips(const json::Value& list) {
    std::unordered_map<std::int64_t, bool> seen;
    for (std::size_t i = 0; i < list.as_array().size(); ++i) {
      const json::Value& item = list.as_array()[i];
      std::string context = "clips[" + std::to_string(i) + "]";
      PIXVAULT_BRANCH_TRY(RequireObject(item, context));
      Fields f(item, context);
      Clip c;
      PIXVAULT_BRANCH_TRY(f.Int("id", c.id));
      const std::string ctx = "clip " + std::to_string(c.id);
      f.set_context(ctx);
      PIXVAULT_BRANCH_TRY(f.Int("node", c.node_id));
      PIXVAULT_BRANCH_TRY(f.OptString("tag", c.tag));
      PIXVAULT_BRANCH_TRY(f.Text("name", c.name));
      PIXVAULT_BRANCH_TRY(f.Number("start", c.start));
      PIXVAULT_BRANCH_TRY(f.Number("end", c.end));
      PIXVAULT_BRANCH_TRY(f.OptInt("extracted_node", c.extracted_node_id));
      IssueIds ids;
      ids.clip = c.id;
      if (!seen.emplace(c.id, true).second) {
        Report(IssueKind::kDuplicateId, ctx + ": id given twice", ids);
        continue;
      }
      c.node = b_.NodeIndex(c.node_id);
      if (c.node == kNoIndex) {
        IssueIds d = ids;
        d.node = c.node_id;
        Report(IssueKind::kDanglingTarget,
               ctx + ": node " + std::to_string(c.node_id) + " is not in the bundle", d);
      }
      if (!(c.start < c.end) || c.start < 0 ||
          (c.node != kNoIndex && b_.nodes_[c.node].duration &&
           c.end > *b_.nodes_[c.node].duration)) {
        Report(IssueKind::kInvalidValue,
               ctx + ": range [" + FormatDouble(c.start) + ", " + FormatDouble(c.end) +
                   "] is empty or outside the node",
               ids);
      }
      if (c.extracted_node_id) {
        c.extracted_node = b_.NodeIndex(*c.extracted_node_id);
        if (c.extracted_node == kNoIndex) {
          IssueIds d = ids;
          d.node = *c.extracted_node_id;
          Report(IssueKind::kDanglingTarget,
                 ctx + ": extracted_node " + std::to_string(*c.extracted_node_id) +
                     " is not in the bundle",
                 d);
        }
      }
      b_.clips_.push_back(std::move(c));
    }
    return {};
  }

  void BuildTimelines() {
    using Entry = Bundle::TimelineEntry;
    b_.runtime_.resize(b_.nodes_.size());
    for (std::size_t n = 0; n < b_.nodes_.size(); ++n) {
      const Node& node = b_.nodes_[n];
      Bundle::NodeRuntime& rt = b_.runtime_[n];
      double latest = 0;
      for (std::uint32_t index : node.branch_points) {
        const BranchPoint& bp = b_.branch_points_[index];
        if (bp.type == BranchType::kManual && bp.show_at < bp.hide_at) {
          rt.timeline.push_back(Entry{bp.show_at, Entry::kOpen, index});
        }
        rt.timeline.push_back(Entry{bp.hide_at, Entry::kDeadline, index});
        latest = std::max(latest, bp.hide_at);
      }
      rt.end = node.duration.value_or(latest);
      rt.timeline.push_back(Entry{rt.end, Entry::kEnd, 0});
      std::stable_sort(rt.timeline.begin(), rt.timeline.end(), [](const Entry& a, const Entry& b) {
        if (a.time != b.time) return a.time < b.time;
        if (a.kind != b.kind) return a.kind < b.kind;
        return a.branch_point < b.branch_point;
      });
    }
  }

  LoadMode mode_;
  Bundle b_;
  std::vector<Issue> issues_;
};

}  // namespace detail

inline Result<StateSchema> ParseStateSchema(std::string_view json_text) {
  auto v = json::Parse(json_text);
  if (!v.ok()) return v.error();
  if (!v->is_array()) {
    return detail::MakeError(ErrorCode::kInvalidValue, "state: expected an array, got " +
                                                           std::string(json::Describe(v->type())));
  }
  StateSchema schema;
  std::optional<Error> first;
  auto status = detail::DecodeState(*v, schema, [&](IssueKind k, std::string m, const IssueIds&) {
    if (!first) first = Error{detail::ErrorCodeOf(k), std::move(m)};
  });
  if (!status.ok()) return status.error();
  if (first) return *first;
  return schema;
}

inline Result<Bundle> LoadBundle(std::string_view json_text, LoadMode mode) {
  return detail::BundleLoader(mode).Load(json_text);
}

inline const Node* Bundle::FindNode(std::int64_t id) const {
  std::uint32_t i = NodeIndex(id);
  return i == kNoIndex ? nullptr : &nodes_[i];
}

inline std::uint32_t Bundle::NodeIndex(std::int64_t id) const {
  auto it = node_index_.find(id);
  return it == node_index_.end() ? kNoIndex : it->second;
}

inline const BranchPoint* Bundle::FindBranchPoint(std::int64_t id) const {
  auto it = branch_point_index_.find(id);
  return it == branch_point_index_.end() ? nullptr : &branch_points_[it->second];
}

inline const Variant* Bundle::FindVariant(std::int64_t id) const {
  auto it = variant_index_.find(id);
  if (it == variant_index_.end()) return nullptr;
  return &branch_points_[it->second.branch_point].variants[it->second.variant];
}

inline const BranchPoint* Bundle::BranchPointOfVariant(std::int64_t id) const {
  auto it = variant_index_.find(id);
  return it == variant_index_.end() ? nullptr : &branch_points_[it->second.branch_point];
}

// --- Validation -----------------------------------------------------------------------------

namespace detail {

// Whether `bp` surely leaves its node (whatever the state and the random draws): a usable
// variant with a constant-true condition that its rule would pick, before the node ends.
inline bool SurelyFires(const Bundle& b, const BranchPoint& bp) {
  if (bp.node == kNoIndex || bp.hide_at > b.EffectiveDuration(bp.node)) return false;
  auto sure = [](const Variant& v) { return v.node != kNoIndex && v.condition.IsAlwaysTrue(); };
  if ((bp.type == BranchType::kManual || bp.type == BranchType::kAutomatic) &&
      bp.default_variant != kNoIndex && sure(bp.variants[bp.default_variant])) {
    return true;
  }
  bool needs_weight = bp.type != BranchType::kConditional;
  for (const Variant& v : bp.variants) {
    if (sure(v) && (!needs_weight || v.weight > 0)) return true;
  }
  return false;
}

inline bool SameNumber(double a, double b) {
  return std::fabs(a - b) <= 1e-9 * std::max(1.0, std::max(std::fabs(a), std::fabs(b)));
}

}  // namespace detail

inline std::vector<Issue> Validate(const Bundle& b) {
  std::vector<Issue> issues = b.load_issues();
  const auto& nodes = b.nodes();
  const std::size_t n = nodes.size();
  // Edges through variants: all of them for reachability; for the cycle analysis only those
  // that can ever be taken (not a constant-false condition; a weight of 0 is taken at random
  // never, but a manual one can be chosen and a default is taken by the timeout rule).
  std::vector<std::vector<std::uint32_t>> out(n), live(n), live_in(n);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::uint32_t index : nodes[i].branch_points) {
      const BranchPoint& bp = b.branch_points()[index];
      for (std::size_t j = 0; j < bp.variants.size(); ++j) {
        const Variant& v = bp.variants[j];
        if (v.node == kNoIndex) continue;
        out[i].push_back(v.node);
        bool takeable =
            !v.condition.IsAlwaysFalse() &&
            (bp.type == BranchType::kManual || bp.type == BranchType::kConditional ||
             v.weight > 0 || (bp.type == BranchType::kAutomatic && j == bp.default_variant));
        if (!takeable) continue;
        live[i].push_back(v.node);
        live_in[v.node].push_back(static_cast<std::uint32_t>(i));
      }
    }
  }

  // unreachable_node: breadth-first from the root (skipped when the root itself dangles).
  if (b.root() != kNoIndex) {
    std::vector<bool> seen(n, false);
    std::vector<std::uint32_t> queue{b.root()};
    seen[b.root()] = true;
    for (std::size_t q = 0; q < queue.size(); ++q) {
      for (std::uint32_t w : out[queue[q]]) {
        if (!seen[w]) {
          seen[w] = true;
          queue.push_back(w);
        }
      }
    }
    for (std::size_t i = 0; i < n; ++i) {
      if (seen[i]) continue;
      IssueIds ids;
      ids.node = nodes[i].id;
      issues.push_back(Issue{IssueKind::kUnreachableNode,
                             "node " + std::to_string(nodes[i].id) +
                                 " is not reachable from the root " + std::to_string(b.root_id()),
                             std::move(ids),
                             {}});
    }
  }

  // cycle_without_exit: nodes that can reach an ending, backwards from the possible endings;
  // then the strongly connected components (iterative Tarjan) none of whose nodes can.
  std::vector<bool> can_end(n, false);
  std::vector<std::uint32_t> queue;
  for (std::size_t i = 0; i < n; ++i) {
    bool may_end = true;
    for (std::uint32_t index : nodes[i].branch_points) {
      if (detail::SurelyFires(b, b.branch_points()[index])) may_end = false;
    }
    if (may_end) {
      can_end[i] = true;
      queue.push_back(static_cast<std::uint32_t>(i));
    }
  }
  for (std::size_t q = 0; q < queue.size(); ++q) {
    for (std::uint32_t w : live_in[queue[q]]) {
      if (!can_end[w]) {
        can_end[w] = true;
        queue.push_back(w);
      }
    }
  }
  constexpr std::uint32_t kUnvisited = kNoIndex;
  std::vector<std::uint32_t> order(n, kUnvisited), low(n, 0), stack;
  std::vector<bool> on_stack(n, false);
  struct Frame {
    std::uint32_t v;
    std::size_t edge;
  };
  std::vector<Frame> calls;
  std::uint32_t counter = 0;
  std::vector<std::vector<std::uint32_t>> stuck;
  for (std::uint32_t s = 0; s < n; ++s) {
    if (order[s] != kUnvisited || can_end[s]) continue;
    auto visit = [&](std::uint32_t v) {
      order[v] = low[v] = counter++;
      stack.push_back(v);
      on_stack[v] = true;
      calls.push_back(Frame{v, 0});
    };
    visit(s);
    while (!calls.empty()) {
      std::uint32_t v = calls.back().v;
      if (calls.back().edge < live[v].size()) {
        std::uint32_t w = live[v][calls.back().edge++];
        if (order[w] == kUnvisited) {
          visit(w);
        } else if (on_stack[w]) {
          low[v] = std::min(low[v], order[w]);
        }
        continue;
      }
      if (low[v] == order[v]) {
        std::vector<std::uint32_t> component;
        std::uint32_t w;
        do {
          w = stack.back();
          stack.pop_back();
          on_stack[w] = false;
          component.push_back(w);
        } while (w != v);
        bool self_loop = std::find(live[v].begin(), live[v].end(), v) != live[v].end();
        bool all_stuck = std::none_of(component.begin(), component.end(),
                                      [&](std::uint32_t x) { return can_end[x]; });
        if (all_stuck && (component.size() > 1 || self_loop)) stuck.push_back(component);
      }
      calls.pop_back();
      if (!calls.empty()) {
        std::uint32_t parent = calls.back().v;
        low[parent] = std::min(low[parent], low[v]);
      }
    }
  }
  std::sort(stuck.begin(), stuck.end(), [](const auto& x, const auto& y) {
    return *std::min_element(x.begin(), x.end()) < *std::min_element(y.begin(), y.end());
  });
  for (auto& component : stuck) {
    std::sort(component.begin(), component.end());
    IssueIds ids;
    std::string list;
    for (std::uint32_t x : component) {
      ids.nodes.push_back(nodes[x].id);
      list += (list.empty() ? "" : ", ") + std::to_string(nodes[x].id);
    }
    issues.push_back(Issue{IssueKind::kCycleWithoutExit,
                           "nodes " + list +
                               " can reach each other but no ending is reachable "
                               "from them",
                           std::move(ids),
                           {}});
  }

  // format_mismatch: a variant's node against its branch point's node.
  for (const BranchPoint& bp : b.branch_points()) {
    if (bp.node == kNoIndex) continue;
    const Node& from = nodes[bp.node];
    for (const Variant& v : bp.variants) {
      if (v.node == kNoIndex) continue;
      const Node& to = nodes[v.node];
      std::vector<std::string> fields;
      std::string detail;
      auto differ = [&](const char* name, std::string a, std::string c) {
        fields.push_back(name);
        detail += (detail.empty() ? "" : ", ") + std::string(name) + " " + c + " vs " + a;
      };
      if (from.codec && to.codec && *from.codec != *to.codec)
        differ("codec", *from.codec, *to.codec);
      if (from.width && to.width && *from.width != *to.width) {
        differ("width", std::to_string(*from.width), std::to_string(*to.width));
      }
      if (from.height && to.height && *from.height != *to.height) {
        differ("height", std::to_string(*from.height), std::to_string(*to.height));
      }
      if (from.fps && to.fps && !detail::SameNumber(*from.fps, *to.fps)) {
        differ("fps", detail::FormatDouble(*from.fps), detail::FormatDouble(*to.fps));
      }
      if (from.pixel_format && to.pixel_format && *from.pixel_format != *to.pixel_format) {
        differ("pixel_format", *from.pixel_format, *to.pixel_format);
      }
      if (fields.empty()) continue;
      IssueIds ids;
      ids.branch_point = bp.id;
      ids.variant = v.id;
      ids.node = to.id;
      issues.push_back(Issue{IssueKind::kFormatMismatch,
                             "branch point " + std::to_string(bp.id) + ", variant " +
                                 std::to_string(v.id) + ": node " + std::to_string(to.id) +
                                 " differs from node " + std::to_string(from.id) + " in " + detail,
                             std::move(ids), std::move(fields)});
    }
  }
  return issues;
}

// --- Rng ------------------------------------------------------------------------------------

inline Rng::Rng(std::uint64_t seed) {
  for (auto& word : s_) {  // splitmix64
    seed += 0x9E3779B97F4A7C15ull;
    std::uint64_t z = seed;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    word = z ^ (z >> 31);
  }
}

inline std::uint64_t Rng::Next() {  // xoshiro256**
  auto rotl = [](std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); };
  const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

inline double Rng::NextDouble() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

inline std::uint64_t Rng::Below(std::uint64_t n) {
  assert(n > 0);
  const std::uint64_t limit =
      std::numeric_limits<std::uint64_t>::max() - std::numeric_limits<std::uint64_t>::max() % n;
  std::uint64_t x;
  do {
    x = Next();
  } while (x >= limit);
  return x % n;
}

// --- Player ---------------------------------------------------------------------------------

inline Player::Player(const Bundle& bundle, std::uint64_t seed)
    : bundle_(&bundle), seed_(seed), rng_(seed), state_(bundle.schema()) {
  std::size_t most = 0;
  for (const BranchPoint& bp : bundle.branch_points()) most = std::max(most, bp.variants.size());
  usable_.resize(most);
  MoveTo(bundle.root());
}

inline void Player::Reset() {
  rng_ = Rng(seed_);
  state_.Reset();
  MoveTo(bundle_->root());
}

inline void Player::MoveTo(std::uint32_t node) {
  node_ = node;
  t_ = 0;
  cursor_ = 0;
  ended_ = node == kNoIndex;
}

inline double Player::NextEventTime() const {
  if (ended_) return std::numeric_limits<double>::infinity();
  const auto& timeline = bundle_->runtime_[node_].timeline;
  if (cursor_ >= timeline.size()) return std::numeric_limits<double>::infinity();
  return std::max(t_, timeline[cursor_].time);
}

inline std::uint32_t Player::WeightedPick(const BranchPoint& bp) {
  double total = 0;
  for (std::size_t i = 0; i < bp.variants.size(); ++i) {
    const Variant& v = bp.variants[i];
    usable_[i] = v.weight > 0 && Usable(v);
    if (usable_[i]) total += v.weight;
  }
  if (!(total > 0)) return kNoIndex;
  double x = rng_.NextDouble() * total;
  std::uint32_t last = kNoIndex;
  for (std::size_t i = 0; i < bp.variants.size(); ++i) {
    if (!usable_[i]) continue;
    last = static_cast<std::uint32_t>(i);
    x -= bp.variants[i].weight;
    if (x < 0) return last;
  }
  return last;  // rounding left x >= 0: the last candidate
}

inline Player::Pick Player::PickAtDeadline(const BranchPoint& bp) {
  switch (bp.type) {
    case BranchType::kManual:
    case BranchType::kAutomatic:
      if (bp.default_variant != kNoIndex && Usable(bp.variants[bp.default_variant])) {
        return {bp.default_variant, Rule::kDefault};
      }
      return {WeightedPick(bp), Rule::kTimeoutRandom};
    case BranchType::kConditional:
      for (std::size_t i = 0; i < bp.variants.size(); ++i) {
        if (Usable(bp.variants[i])) return {static_cast<std::uint32_t>(i), Rule::kConditional};
      }
      return {};
    case BranchType::kRandom:
      return {WeightedPick(bp), Rule::kRandom};
  }
  return {};
}

inline Status Player::Run(double target, std::vector<Event>& events) {
  using Entry = Bundle::TimelineEntry;
  constexpr std::uint32_t kMaxZeroTimeBranches = 65536;
  std::uint32_t zero_time = 0;
  while (!ended_) {
    const auto& timeline = bundle_->runtime_[node_].timeline;
    if (cursor_ >= timeline.size() || timeline[cursor_].time > target) {
      t_ = std::max(t_, target);
      return {};
    }
    const Entry entry = timeline[cursor_++];
    t_ = std::max(t_, entry.time);
    const Node* here = &bundle_->nodes_[node_];
    if (entry.kind == Entry::kEnd) {
      ended_ = true;
      events.push_back(Event{EventKind::kEnded, t_, here});
      return {};
    }
    const BranchPoint& bp = bundle_->branch_points_[entry.branch_point];
    if (entry.kind == Entry::kOpen) {
      events.push_back(Event{EventKind::kWindowOpened, t_, here, &bp});
      continue;
    }
    if (bp.type == BranchType::kManual && bp.show_at < bp.hide_at) {
      events.push_back(Event{EventKind::kWindowClosed, t_, here, &bp});
    }
    const Pick pick = PickAtDeadline(bp);
    if (pick.variant == kNoIndex) continue;  // nothing applies: the node plays on
    const Variant& v = bp.variants[pick.variant];
    if (!v.effects.empty() && !v.effects.Apply(state_).ok()) {
      events.push_back(Event{EventKind::kEffectsFailed, t_, here, &bp, &v, nullptr, pick.rule});
    }
    events.push_back(
        Event{EventKind::kBranchTaken, t_, here, &bp, &v, &bundle_->nodes_[v.node], pick.rule});
    const double carry = std::max(0.0, target - t_);
    zero_time = entry.time <= 0 ? zero_time + 1 : 0;
    MoveTo(v.node);
    target = carry;
    if (zero_time > kMaxZeroTimeBranches) {
      return detail::MakeError(ErrorCode::kStalled,
                               "more than " + std::to_string(kMaxZeroTimeBranches) +
                                   " branches taken at time 0 in a row (a zero-time loop)");
    }
  }
  return {};
}

inline Status Player::Advance(double dt, std::vector<Event>& events) {
  if (!std::isfinite(dt) || dt < 0) {
    return detail::MakeError(ErrorCode::kInvalidValue, "advance: dt must be finite and >= 0, got " +
                                                           detail::FormatDouble(dt));
  }
  return Run(t_ + dt, events);
}

inline void Player::OpenChoices(std::vector<Choice>& out) const {
  out.clear();
  if (ended_) return;
  const auto& timeline = bundle_->runtime_[node_].timeline;
  if (cursor_ < timeline.size() && timeline[cursor_].time <= t_) return;  // not yet delivered
  for (std::uint32_t index : bundle_->nodes_[node_].branch_points) {
    const BranchPoint& bp = bundle_->branch_points_[index];
    if (bp.type != BranchType::kManual || !(bp.show_at <= t_ && t_ < bp.hide_at)) continue;
    for (const Variant& v : bp.variants) {
      if (Usable(v)) out.push_back(Choice{&bp, &v});
    }
  }
}

inline std::vector<Choice> Player::OpenChoices() const {
  std::vector<Choice> out;
  OpenChoices(out);
  return out;
}

inline Status Player::Choose(std::int64_t variant_id, std::vector<Event>& events) {
  if (auto s = Run(t_, events); !s.ok()) return s;  // deliver what is due now (new Player)
  if (ended_) return detail::MakeError(ErrorCode::kEnded, "playback has ended");
  auto it = bundle_->variant_index_.find(variant_id);
  if (it == bundle_->variant_index_.end()) {
    return detail::MakeError(ErrorCode::kNotFound,
                             "no variant " + std::to_string(variant_id) + " in the bundle");
  }
  const BranchPoint& bp = bundle_->branch_points_[it->second.branch_point];
  return Take(bp, bp.variants[it->second.variant], events);
}

inline Status Player::Choose(const Choice& choice, std::vector<Event>& events) {
  // Pointers into this bundle? (std::less: a total order even for unrelated pointers.)
  auto within = [](const auto* p, const auto& vec) {
    using Less = std::less<decltype(p)>;
    return p != nullptr && !vec.empty() && !Less{}(p, vec.data()) &&
           Less{}(p, vec.data() + vec.size());
  };
  if (!within(choice.branch_point, bundle_->branch_points_) ||
      !within(choice.variant, choice.branch_point->variants)) {
    return detail::MakeError(ErrorCode::kNotFound, "the choice is not of this bundle");
  }
  if (auto s = Run(t_, events); !s.ok()) return s;
  if (ended_) return detail::MakeError(ErrorCode::kEnded, "playback has ended");
  return Take(*choice.branch_point, *choice.variant, events);
}

inline Status Player::Take(const BranchPoint& bp, const Variant& v, std::vector<Event>& events) {
  const std::int64_t variant_id = v.id;
  if (bp.node != node_ || bp.type != BranchType::kManual ||
      !(bp.show_at <= t_ && t_ < bp.hide_at)) {
    return detail::MakeError(ErrorCode::kNotOpen,
                             "variant " + std::to_string(variant_id) + " (branch point " +
                                 std::to_string(bp.id) +
                                 ") is not open at t=" + detail::FormatDouble(t_) + " in node " +
                                 std::to_string(bundle_->nodes_[node_].id));
  }
  if (v.node == kNoIndex) {
    return detail::MakeError(ErrorCode::kDanglingTarget, "variant " + std::to_string(variant_id) +
                                                             ": node " + std::to_string(v.node_id) +
                                                             " is not in the bundle");
  }
  if (!v.condition.Evaluate(state_)) {
    return detail::MakeError(ErrorCode::kNotOpen, "variant " + std::to_string(variant_id) +
                                                      ": its condition does not hold");
  }
  if (auto s = v.effects.Apply(state_); !s.ok()) {
    return detail::Prefixed("variant " + std::to_string(variant_id) + ": ", s.error());
  }
  events.push_back(Event{EventKind::kBranchTaken, t_, &bundle_->nodes_[node_], &bp, &v,
                         &bundle_->nodes_[v.node], Rule::kChoice});
  MoveTo(v.node);
  return Run(0, events);
}

#undef PIXVAULT_BRANCH_TRY

}  // namespace pixvault::branch
