// Behaviour of the header-only branch runtime (include/pixvault/branch_runtime.hpp): the JSON
// parser, conditions and effects, strict and lenient loading, validation and the Player.
#include "pixvault/branch_runtime.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace pixvault::branch {
namespace {

using ::testing::HasSubstr;

// The example of docs/bundle-format.md with the two variant nodes added (14 loops back).
constexpr std::string_view kDoor = R"({
  "format": "pixvault.bundle", "version": 1, "root": 12,
  "generated_at": "2026-11-24T08:30:00Z",
  "state": [
    {"name": "has_key", "type": "bool", "initial": false},
    {"name": "coins", "type": "int", "initial": 0},
    {"name": "ally", "type": "string"}
  ],
  "nodes": [
    {"id": 12, "sha256": "9f86", "media_type": "video", "mime_type": "video/mp4",
     "size_bytes": 1048576, "duration": 8.0, "fps": 24.0, "width": 1280, "height": 720,
     "codec": "h264", "pixel_format": "yuv420p", "file": null, "url": "/api/v1/assets/12/file"},
    {"id": 13, "duration": 5.0, "fps": 24.0, "width": 1280, "height": 720, "codec": "h264",
     "pixel_format": "yuv420p"},
    {"id": 14, "duration": 4.0, "fps": null, "width": 1280, "height": null, "codec": "h264",
     "pixel_format": null}
  ],
  "branch_points": [
    {"id": 3, "node": 12, "name": "door", "tag": "door", "type": "manual",
     "time": 6.0, "frame": 144, "show_at": 4.5, "hide_at": 6.0, "default_variant": 7,
     "variants": [
       {"id": 7, "node": 13, "name": "open", "tag": "open", "weight": 1.0,
        "condition": {"eq": ["has_key", true]},
        "effects": [{"set": "has_key", "value": false}, {"add": "coins", "value": 5}]},
       {"id": 8, "node": 14, "name": "walk away", "tag": null, "weight": 2.0,
        "condition": null, "effects": []}
     ],
     "prefetch": [{"node": 13, "bytes": 262144}, {"node": 14, "bytes": 262144}]}
  ],
  "clips": [
    {"id": 5, "node": 12, "tag": "intro", "name": "Intro", "start": 0.0, "end": 2.5,
     "extracted_node": null}
  ],
  "validation": {"ok": true, "issues": []}
})";

// A bundle with `state`, `nodes` and `branch_points` spliced in (JSON fragments).
std::string MakeBundle(std::string_view nodes, std::string_view branch_points,
                       std::string_view state = "[]", std::int64_t root = 1) {
  return R"({"format": "pixvault.bundle", "version": 1, "root": )" + std::to_string(root) +
         R"(, "state": )" + std::string(state) + R"(, "nodes": )" + std::string(nodes) +
         R"(, "branch_points": )" + std::string(branch_points) + "}";
}

// `text` (made by MakeBundle with root 1) with another root.
std::string WithRoot(std::string text, std::int64_t root) {
  const std::string from = R"("root": 1,)";
  text.replace(text.find(from), from.size(), R"("root": )" + std::to_string(root) + ",");
  return text;
}

StateSchema DoorSchema() {
  StateSchema s;
  EXPECT_TRUE(s.Add("has_key", VarType::kBool, false).ok());
  EXPECT_TRUE(s.Add("coins", VarType::kInt, std::int64_t{0}).ok());
  EXPECT_TRUE(s.Add("ally", VarType::kString).ok());
  return s;
}

Bundle MustLoad(std::string_view text, LoadMode mode = LoadMode::kStrict) {
  auto b = LoadBundle(text, mode);
  EXPECT_TRUE(b.ok()) << b.error().message;
  return std::move(b).value();
}

std::vector<EventKind> Kinds(const std::vector<Event>& events) {
  std::vector<EventKind> out;
  for (const Event& e : events) out.push_back(e.kind);
  return out;
}

// ------------------------------------------------------------------------------------------
// JSON

TEST(Json, ParsesEveryKindOfValue) {
  auto v = json::Parse(R"( {"a": [1, -2, 3.5, "x", true, false, null], "b": {}} )");
  ASSERT_TRUE(v.ok()) << v.error().message;
  const auto& a = v->Find("a")->as_array();
  ASSERT_EQ(a.size(), 7u);
  EXPECT_EQ(a[0].as_int(), 1);
  EXPECT_EQ(a[1].as_int(), -2);
  EXPECT_DOUBLE_EQ(a[2].as_number(), 3.5);
  EXPECT_EQ(a[3].as_string(), "x");
  EXPECT_TRUE(a[4].as_bool());
  EXPECT_FALSE(a[5].as_bool());
  EXPECT_TRUE(a[6].is_null());
  EXPECT_TRUE(v->Find("b")->is_object());
  EXPECT_EQ(v->Find("c"), nullptr);
}

TEST(Json, IntegersAreExactInt64AndEverythingElseDouble) {
  auto max = json::Parse("9223372036854775807");
  ASSERT_TRUE(max.ok());
  EXPECT_EQ(max->as_int(), std::numeric_limits<std::int64_t>::max());
  auto min = json::Parse("-9223372036854775808");
  ASSERT_TRUE(min.ok());
  EXPECT_EQ(min->as_int(), std::numeric_limits<std::int64_t>::min());
  auto beyond = json::Parse("9223372036854775808");
  ASSERT_TRUE(beyond.ok());
  EXPECT_EQ(beyond->type(), json::Type::kDouble);
  EXPECT_EQ(json::Parse("1.0")->type(), json::Type::kDouble);
  EXPECT_EQ(json::Parse("1e2")->type(), json::Type::kDouble);
  EXPECT_EQ(json::Parse("-0")->type(), json::Type::kInt);
}

TEST(Json, RefusesMalformedNumbers) {
  for (const char* bad : {"1e999", "-1e999", "-", "01", "1.", ".5", "+1", "1e", "1e+", "0x10",
                          "NaN", "Infinity", "-inf", "1.5.2"}) {
    auto v = json::Parse(bad);
    EXPECT_FALSE(v.ok()) << bad;
    if (!v.ok()) {
      EXPECT_EQ(v.error().code, ErrorCode::kParse);
    }
  }
  EXPECT_THAT(json::Parse("[1e999]").error().message, HasSubstr("offset 1: number out of range"));
}

TEST(Json, DecodesEscapesAndSurrogatePairs) {
  auto v = json::Parse(R"("a\"b\\c\/d\b\f\n\r\t \u00e9 \ud83d\ude00 \u0000")");
  ASSERT_TRUE(v.ok()) << v.error().message;
  const char kExpected[] = "a\"b\\c/d\b\f\n\r\t \xc3\xa9 \xf0\x9f\x98\x80 \0";
  EXPECT_EQ(v->as_string(), std::string(kExpected, sizeof kExpected - 1));
}

TEST(Json, RefusesBadEscapesAndBadText) {
  struct Case {
    std::string text;
    std::string message;
  };
  for (const Case& c : std::vector<Case>{
           {R"("\ud83d")", "unpaired high surrogate"},
           {R"("\ud83d\u0041")", "invalid low surrogate"},
           {R"("\ude00")", "lone low surrogate"},
           {R"("\x")", "invalid escape"},
           {R"("\u12")", "\\u escape"},
           {R"("\u12G4")", "invalid hex digit"},
           {"\"a\nb\"", "control character"},
           {"\"\xff\"", "invalid UTF-8"},
           {"\"\xc0\xaf\"", "invalid UTF-8"},      // overlong '/'
           {"\"\xed\xa0\x80\"", "invalid UTF-8"},  // encoded surrogate
           {"\"\xe2\x82\"", "invalid UTF-8"},      // truncated sequence
           {"\"abc", "unterminated string"},
       }) {
    auto v = json::Parse(c.text);
    ASSERT_FALSE(v.ok()) << c.text;
    EXPECT_THAT(v.error().message, HasSubstr(c.message)) << c.text;
  }
  EXPECT_TRUE(json::Parse("\"\xe2\x82\xac \xf0\x9f\x98\x80\"").ok());
}

TEST(Json, RefusesTruncatedInputAndTrailingGarbage) {
  for (const char* bad :
       {"", "   ", "{", "[", "[1,", "[1, 2", R"({"a")", R"({"a":)", R"({"a": 1)", R"({"a": 1,})",
        "[1,]", "tru", "nul", "{} x", "[] []", "1 2", R"({a: 1})", R"({"a" 1})", "[1 2]"}) {
    EXPECT_FALSE(json::Parse(bad).ok()) << bad;
  }
  auto v = json::Parse("{}  x");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().message, "json: offset 4: trailing characters after the JSON value");
  EXPECT_THAT(json::Parse("[1, 2,]").error().message, HasSubstr("offset 6"));
}

TEST(Json, LimitsNestingDepth) {
  std::string ok = std::string(64, '[') + std::string(64, ']');
  EXPECT_TRUE(json::Parse(ok).ok());
  std::string deep = std::string(65, '[') + std::string(65, ']');
  auto v = json::Parse(deep);
  ASSERT_FALSE(v.ok());
  EXPECT_THAT(v.error().message, HasSubstr("nesting deeper than 64"));
  EXPECT_FALSE(json::Parse(std::string(100000, '[')).ok());
  std::string objects;
  for (int i = 0; i < 100000; ++i) objects += "{\"a\":";
  EXPECT_FALSE(json::Parse(objects).ok());
  EXPECT_TRUE(json::Parse(deep, json::ParseOptions{.max_depth = 100}).ok());
}

TEST(Json, RefusesDuplicateMemberNames) {
  auto v = json::Parse(R"({"a": 1, "b": 2, "a": 3})");
  ASSERT_FALSE(v.ok());
  EXPECT_THAT(v.error().message, HasSubstr("duplicate member name \"a\""));
}

TEST(Json, QuoteRoundTrips) {
  const char kRaw[] = "q\"b\\ \n\t\x01 \xc3\xa9";
  std::string s(kRaw, sizeof kRaw - 1);
  auto v = json::Parse(json::Quote(s));
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(v->as_string(), s);
}

// ------------------------------------------------------------------------------------------
// Conditions

TEST(Condition, EvaluatesEveryForm) {
  StateSchema schema = DoorSchema();
  State state(schema);
  ASSERT_TRUE(state.Set("coins", std::int64_t{5}).ok());
  ASSERT_TRUE(state.Set("ally", std::string("cat")).ok());
  struct Case {
    const char* json;
    bool expected;
  };
  for (const Case& c : std::vector<Case>{
           {"null", true},
           {"true", true},
           {"false", false},
           {R"({"has": "coins"})", true},
           {R"({"eq": ["has_key", false]})", true},
           {R"({"ne": ["has_key", false]})", false},
           {R"({"eq": ["coins", 5]})", true},
           {R"({"ne": ["coins", 5]})", false},
           {R"({"lt": ["coins", 6]})", true},
           {R"({"le": ["coins", 5]})", true},
           {R"({"gt": ["coins", 5]})", false},
           {R"({"ge": ["coins", 5]})", true},
           {R"({"eq": ["ally", "cat"]})", true},
           {R"({"ne": ["ally", "dog"]})", true},
           {R"({"and": [{"has": "ally"}, {"gt": ["coins", 1]}]})", true},
           {R"({"and": [{"has": "ally"}, {"gt": ["coins", 9]}]})", false},
           {R"({"or": [false, {"eq": ["coins", 5]}]})", true},
           {R"({"or": [false, null, {"not": true}]})", true},
           {R"({"not": {"or": [false, false]}})", true},
           {R"({"and": [{"or": [false, {"not": false}]}, {"not": {"lt": ["coins", 0]}}]})", true},
       }) {
    auto cond = CompileCondition(c.json, schema);
    ASSERT_TRUE(cond.ok()) << c.json << ": " << cond.error().message;
    EXPECT_EQ(cond->Evaluate(state), c.expected) << c.json;
  }
}

TEST(Condition, ComparingAnUnsetVariableIsFalseNeIncluded) {
  StateSchema schema = DoorSchema();
  State state(schema);  // ally unset
  for (const char* json :
       {R"({"eq": ["ally", "cat"]})", R"({"ne": ["ally", "cat"]})", R"({"has": "ally"})"}) {
    auto cond = CompileCondition(json, schema);
    ASSERT_TRUE(cond.ok());
    EXPECT_FALSE(cond->Evaluate(state)) << json;
  }
  auto negated = CompileCondition(R"({"not": {"has": "ally"}})", schema);
  EXPECT_TRUE(negated->Evaluate(state));
}

TEST(Condition, RefusesInvalidExpressions) {
  StateSchema schema = DoorSchema();
  struct Case {
    const char* json;
    ErrorCode code;
    const char* message;
  };
  for (const Case& c : std::vector<Case>{
           {"{", ErrorCode::kParse, "condition: json: offset 1"},
           {R"({"foo": ["coins", 1]})", ErrorCode::kInvalidExpression,
            "condition: unknown operator 'foo'"},
           {R"({"eq": ["coins"]})", ErrorCode::kInvalidExpression, "takes [\"variable\", literal]"},
           {R"({"eq": ["coins", 1, 2]})", ErrorCode::kInvalidExpression, "takes"},
           {R"({"eq": [1, 1]})", ErrorCode::kInvalidExpression, "takes"},
           {R"({"eq": ["coins", 1], "ne": ["coins", 2]})", ErrorCode::kInvalidExpression,
            "exactly one member, got 2"},
           {"{}", ErrorCode::kInvalidExpression, "exactly one member, got 0"},
           {R"({"and": []})", ErrorCode::kInvalidExpression, "non-empty array"},
           {R"({"or": true})", ErrorCode::kInvalidExpression, "non-empty array"},
           {R"({"not": [true]})", ErrorCode::kInvalidExpression, "got an array"},
           {R"({"has": 3})", ErrorCode::kInvalidExpression, "'has' takes a variable name"},
           {"3", ErrorCode::kInvalidExpression, "got an integer"},
           {R"("coins")", ErrorCode::kInvalidExpression, "got a string"},
           {R"({"eq": ["coins", "5"]})", ErrorCode::kTypeMismatch,
            "'eq' compares int variable 'coins' with a string"},
           {R"({"eq": ["ally", 5]})", ErrorCode::kTypeMismatch, "string variable 'ally'"},
           {R"({"eq": ["coins", 1.5]})", ErrorCode::kTypeMismatch, "with a number"},
           {R"({"eq": ["coins", 1.0]})", ErrorCode::kTypeMismatch, "with a number"},
           {R"({"eq": ["has_key", 1]})", ErrorCode::kTypeMismatch, "bool variable"},
           {R"({"eq": ["has_key", null]})", ErrorCode::kTypeMismatch, "with null"},
           {R"({"lt": ["has_key", true]})", ErrorCode::kTypeMismatch,
            "'lt' needs an int variable; 'has_key' is bool"},
           {R"({"ge": ["ally", "a"]})", ErrorCode::kTypeMismatch, "'ally' is string"},
           {R"({"eq": ["gold", 1]})", ErrorCode::kUndeclaredVariable, "undeclared variable 'gold'"},
           {R"({"and": [true, {"has": "gold"}]})", ErrorCode::kUndeclaredVariable, "'gold'"},
       }) {
    auto cond = CompileCondition(c.json, schema);
    ASSERT_FALSE(cond.ok()) << c.json;
    EXPECT_EQ(cond.error().code, c.code) << c.json << ": " << cond.error().message;
    EXPECT_THAT(cond.error().message, HasSubstr(c.message)) << c.json;
    EXPECT_EQ(cond.error().message.rfind("condition: ", 0), 0u) << cond.error().message;
  }
}

TEST(Condition, RefusesExpressionsNestedTooDeeply) {
  StateSchema schema;
  std::string deep;
  for (int i = 0; i < 60; ++i) deep += R"({"not":)";
  deep += "true" + std::string(60, '}');
  EXPECT_TRUE(CompileCondition(deep, schema).ok());
  std::string deeper;
  for (int i = 0; i < 70; ++i) deeper += R"({"not":)";
  deeper += "true" + std::string(70, '}');
  EXPECT_FALSE(CompileCondition(deeper, schema).ok());
}

// ------------------------------------------------------------------------------------------
// Effects

TEST(Effects, SetAddUnsetInOrder) {
  StateSchema schema = DoorSchema();
  State state(schema);
  auto e = CompileEffects(
      R"([{"set": "has_key", "value": true}, {"add": "coins", "value": 5},
          {"add": "coins", "value": -2}, {"set": "ally", "value": "cat"}, {"unset": "has_key"}])",
      schema);
  ASSERT_TRUE(e.ok()) << e.error().message;
  ASSERT_TRUE(e->Apply(state).ok());
  EXPECT_EQ(std::get<std::int64_t>(*state.Get("coins")), 3);
  EXPECT_EQ(std::get<std::string>(*state.Get("ally")), "cat");
  EXPECT_TRUE(std::holds_alternative<std::monostate>(*state.Get("has_key")));
}

TEST(Effects, AddToAnUnsetVariableCountsFromZero) {
  StateSchema schema;
  ASSERT_TRUE(schema.Add("n", VarType::kInt).ok());
  State state(schema);
  auto e = CompileEffects(R"([{"add": "n", "value": 7}])", schema);
  ASSERT_TRUE(e.ok());
  ASSERT_TRUE(e->Apply(state).ok());
  EXPECT_EQ(std::get<std::int64_t>(*state.Get("n")), 7);
}

TEST(Effects, OverflowLeavesTheStateUnchanged) {
  StateSchema schema = DoorSchema();
  State state(schema);
  const std::int64_t max = std::numeric_limits<std::int64_t>::max();
  ASSERT_TRUE(state.Set("coins", max - 1).ok());
  auto e = CompileEffects(R"([{"set": "has_key", "value": true}, {"set": "ally", "value": "x"},
                              {"add": "coins", "value": 5}])",
                          schema);
  ASSERT_TRUE(e.ok());
  auto s = e->Apply(state);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kOverflow);
  EXPECT_THAT(s.error().message, HasSubstr("effects[2]: add 5 to 'coins'"));
  EXPECT_FALSE(std::get<bool>(*state.Get("has_key")));
  EXPECT_TRUE(std::holds_alternative<std::monostate>(*state.Get("ally")));
  EXPECT_EQ(std::get<std::int64_t>(*state.Get("coins")), max - 1);

  // Through a chain on the same variable: set, add, add.
  auto chain = CompileEffects(R"([{"set": "coins", "value": 0},
      {"add": "coins", "value": 9223372036854775807}, {"add": "coins", "value": 1}])",
                              schema);
  ASSERT_TRUE(chain.ok());
  EXPECT_EQ(chain->Apply(state).error().code, ErrorCode::kOverflow);
  EXPECT_EQ(std::get<std::int64_t>(*state.Get("coins")), max - 1);

  // Negative overflow.
  ASSERT_TRUE(state.Set("coins", std::numeric_limits<std::int64_t>::min()).ok());
  auto down = CompileEffects(R"([{"add": "coins", "value": -1}])", schema);
  EXPECT_EQ(down->Apply(state).error().code, ErrorCode::kOverflow);

  // An unset in between restarts from 0: no overflow.
  ASSERT_TRUE(state.Set("coins", max).ok());
  auto reset = CompileEffects(R"([{"unset": "coins"}, {"add": "coins", "value": 5}])", schema);
  ASSERT_TRUE(reset->Apply(state).ok());
  EXPECT_EQ(std::get<std::int64_t>(*state.Get("coins")), 5);
}

TEST(Effects, LongListsStayAtomic) {
  StateSchema schema;
  ASSERT_TRUE(schema.Add("n", VarType::kInt, std::int64_t{0}).ok());
  ASSERT_TRUE(schema.Add("flag", VarType::kBool, false).ok());
  State state(schema);
  std::string list = R"([{"set": "flag", "value": true})";
  for (int i = 0; i < 40; ++i) list += R"(, {"add": "n", "value": 1})";
  auto e = CompileEffects(list + "]", schema);
  ASSERT_TRUE(e.ok());
  ASSERT_TRUE(e->Apply(state).ok());
  EXPECT_EQ(std::get<std::int64_t>(*state.Get("n")), 40);
  ASSERT_TRUE(state.Set("n", std::numeric_limits<std::int64_t>::max() - 39).ok());
  ASSERT_TRUE(state.Set("flag", false).ok());
  EXPECT_EQ(e->Apply(state).error().code, ErrorCode::kOverflow);
  EXPECT_FALSE(std::get<bool>(*state.Get("flag")));
}

TEST(Effects, RefusesInvalidEffects) {
  StateSchema schema = DoorSchema();
  struct Case {
    const char* json;
    ErrorCode code;
    const char* message;
  };
  for (const Case& c : std::vector<Case>{
           {R"({"set": "coins", "value": 1})", ErrorCode::kInvalidExpression, "expected an array"},
           {R"([{"bump": "coins"}])", ErrorCode::kInvalidExpression, "effects[0]: an effect has"},
           {R"([{"set": "coins", "add": "coins", "value": 1}])", ErrorCode::kInvalidExpression,
            "exactly one of"},
           {R"([{"set": "coins", "value": 1, "why": 2}])", ErrorCode::kInvalidExpression,
            "exactly the members"},
           {R"([{"set": "coins"}])", ErrorCode::kInvalidExpression, "exactly the members"},
           {R"([{"unset": "coins", "value": 1}])", ErrorCode::kInvalidExpression,
            "'unset' takes no other member"},
           {R"([{"set": 3, "value": 1}])", ErrorCode::kInvalidExpression, "variable name"},
           {R"([3])", ErrorCode::kInvalidExpression, "expected an object"},
           {R"([{"add": "ally", "value": 1}])", ErrorCode::kTypeMismatch,
            "'add' needs an int variable"},
           {R"([{"add": "coins", "value": 1.5}])", ErrorCode::kTypeMismatch, "takes an integer"},
           {R"([{"set": "coins", "value": "1"}])", ErrorCode::kTypeMismatch,
            "'set' of int variable 'coins' to a string"},
           {R"([{"set": "has_key", "value": null}])", ErrorCode::kTypeMismatch, "to null"},
           {R"([{"set": "coins", "value": 1}, {"unset": "gold"}])", ErrorCode::kUndeclaredVariable,
            "effects[1]: undeclared variable 'gold'"},
           {"[", ErrorCode::kParse, "effects: json"},
       }) {
    auto e = CompileEffects(c.json, schema);
    ASSERT_FALSE(e.ok()) << c.json;
    EXPECT_EQ(e.error().code, c.code) << c.json << ": " << e.error().message;
    EXPECT_THAT(e.error().message, HasSubstr(c.message)) << c.json;
  }
  auto empty = CompileEffects("null", schema);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

// ------------------------------------------------------------------------------------------
// State

TEST(State, ParsesDeclarationsAndChecksTypes) {
  auto schema = ParseStateSchema(
      R"([{"name": "a", "type": "bool", "initial": true}, {"name": "b", "type": "int"}])");
  ASSERT_TRUE(schema.ok()) << schema.error().message;
  State state(*schema);
  EXPECT_TRUE(std::get<bool>(*state.Get("a")));
  EXPECT_TRUE(std::holds_alternative<std::monostate>(*state.Get("b")));
  EXPECT_EQ(state.Set("b", true).error().code, ErrorCode::kTypeMismatch);
  EXPECT_EQ(state.Set("c", true).error().code, ErrorCode::kUndeclaredVariable);
  EXPECT_EQ(state.Get("c").error().code, ErrorCode::kUndeclaredVariable);
  ASSERT_TRUE(state.Set("b", std::int64_t{3}).ok());
  ASSERT_TRUE(state.Set("a", Literal{}).ok());
  EXPECT_FALSE(state.IsSet(0));
  state.Reset();
  EXPECT_TRUE(state.IsSet(0));
  EXPECT_FALSE(state.IsSet(1));

  EXPECT_EQ(ParseStateSchema(R"([{"name": "a", "type": "bool"}, {"name": "a", "type": "int"}])")
                .error()
                .code,
            ErrorCode::kDuplicateId);
  EXPECT_EQ(ParseStateSchema(R"([{"name": "a", "type": "int", "initial": "x"}])").error().code,
            ErrorCode::kTypeMismatch);
  EXPECT_EQ(ParseStateSchema(R"([{"name": "a", "type": "float"}])").error().code,
            ErrorCode::kInvalidValue);
  EXPECT_EQ(ParseStateSchema(R"({"name": "a"})").error().code, ErrorCode::kInvalidValue);
}

// ------------------------------------------------------------------------------------------
// Loading

TEST(LoadBundle, ReadsTheDocumentedExample) {
  Bundle b = MustLoad(kDoor);
  EXPECT_EQ(b.root_id(), 12);
  EXPECT_EQ(b.nodes().size(), 3u);
  EXPECT_EQ(b.schema().size(), 3u);
  const Node* hall = b.FindNode(12);
  ASSERT_NE(hall, nullptr);
  EXPECT_EQ(hall->codec, "h264");
  EXPECT_EQ(hall->width, 1280);
  EXPECT_EQ(hall->size_bytes, 1048576);
  EXPECT_FALSE(hall->file.has_value());
  const BranchPoint* door = b.FindBranchPoint(3);
  ASSERT_NE(door, nullptr);
  EXPECT_EQ(door->type, BranchType::kManual);
  EXPECT_EQ(door->frame, 144);
  EXPECT_EQ(door->default_variant, 0u);
  ASSERT_EQ(door->variants.size(), 2u);
  EXPECT_EQ(door->variants[1].tag, std::nullopt);
  EXPECT_EQ(door->variants[0].effects.size(), 2u);
  EXPECT_EQ(door->prefetch.size(), 2u);
  EXPECT_EQ(b.BranchPointOfVariant(8), door);
  EXPECT_EQ(b.FindVariant(8)->node, b.NodeIndex(14));
  ASSERT_EQ(b.clips().size(), 1u);
  EXPECT_EQ(b.clips()[0].name, "Intro");
  EXPECT_TRUE(b.load_issues().empty());
}

TEST(LoadBundle, RefusesOtherFormatsAndVersions) {
  std::string doc(kDoor);
  auto with = [&](std::string_view from, std::string_view to) {
    std::string s = doc;
    s.replace(s.find(from), from.size(), to);
    return s;
  };
  for (const std::string& bad :
       {with(R"("format": "pixvault.bundle")", R"("format": "other")"),
        with(R"("format": "pixvault.bundle",)", ""), with(R"("version": 1)", R"("version": 2)"),
        with(R"("version": 1)", R"("version": "1")"),
        with(R"("version": 1)", R"("version": 1.0)")}) {
    auto b = LoadBundle(bad, LoadMode::kLenient);
    ASSERT_FALSE(b.ok());
    EXPECT_EQ(b.error().code, ErrorCode::kUnsupported) << b.error().message;
  }
  EXPECT_EQ(LoadBundle("[]").error().code, ErrorCode::kInvalidValue);
  EXPECT_EQ(LoadBundle("{\"format\": ").error().code, ErrorCode::kParse);
}

TEST(LoadBundle, RefusesEveryBadInputOfTheFormat) {
  const std::string nodes = R"([{"id": 1, "duration": 10}, {"id": 2, "duration": 10}])";
  const std::string state = R"([{"name": "n", "type": "int", "initial": 0},
                               {"name": "s", "type": "string"}])";
  auto bp = [](std::string_view variant_fields, std::string_view bp_fields = "") {
    return R"([{"id": 3, "node": 1, "type": "manual", "time": 5)" + std::string(bp_fields) +
           R"(, "variants": [{"id": 7, "node": 2)" + std::string(variant_fields) + "}]}]";
  };
  struct Case {
    std::string text;
    ErrorCode code;
    std::string message;
  };
  const std::vector<Case> cases = {
      {MakeBundle(nodes, bp(R"(, "condition": {"foo": ["n", 1]})"), state),
       ErrorCode::kInvalidExpression,
       "branch point 3, variant 7: condition: unknown operator 'foo'"},
      {MakeBundle(nodes, bp(R"(, "condition": {"eq": ["s", 1]})"), state), ErrorCode::kTypeMismatch,
       "branch point 3, variant 7: condition: 'eq' compares string"},
      {MakeBundle(nodes, bp(R"(, "condition": {"eq": ["n", "1"]})"), state),
       ErrorCode::kTypeMismatch, "int variable 'n' with a string"},
      {MakeBundle(nodes, bp(R"(, "condition": {"lt": ["s", "a"]})"), state),
       ErrorCode::kTypeMismatch, "'lt' needs an int variable"},
      {MakeBundle(nodes, bp(R"(, "condition": {"has": "gold"})"), state),
       ErrorCode::kUndeclaredVariable, "variant 7: condition: undeclared variable 'gold'"},
      {MakeBundle(nodes, bp(R"(, "condition": {"eq": ["n"]})"), state),
       ErrorCode::kInvalidExpression, "takes [\"variable\", literal]"},
      {MakeBundle(nodes, bp(R"(, "condition": "n > 1")"), state), ErrorCode::kInvalidExpression,
       "condition: expected an expression"},
      {MakeBundle(nodes, bp(R"(, "effects": [{"add": "s", "value": 1}])"), state),
       ErrorCode::kTypeMismatch, "variant 7: effects[0]: 'add' needs an int variable"},
      {MakeBundle(nodes, bp(R"(, "effects": [{"set": "x", "value": 1}])"), state),
       ErrorCode::kUndeclaredVariable, "effects[0]: undeclared variable 'x'"},
      {MakeBundle(nodes, bp(R"(, "weight": -1)"), state), ErrorCode::kInvalidValue,
       "branch point 3, variant 7: weight -1 is negative"},
      {MakeBundle(nodes, bp(R"(, "weight": -0.5e-300)"), state), ErrorCode::kInvalidValue,
       "is negative"},
      {MakeBundle(nodes, bp(R"(, "weight": 1e400)"), state), ErrorCode::kParse,
       "number out of range"},
      {MakeBundle(nodes, bp(R"(, "weight": "heavy")"), state), ErrorCode::kInvalidValue,
       "variant 7: weight: expected a number or null, got a string"},
      {MakeBundle(nodes, bp("", R"(, "show_at": 6, "hide_at": 5)"), state),
       ErrorCode::kInvalidValue, "branch point 3: show_at 6 is after hide_at 5"},
      {MakeBundle(nodes, bp("", R"(, "hide_at": 11)"), state), ErrorCode::kInvalidValue,
       "beyond the duration 10"},
      {MakeBundle(nodes, bp("", R"(, "show_at": -1)"), state), ErrorCode::kInvalidValue,
       "negative time"},
      {MakeBundle(nodes, bp("", R"(, "default_variant": 99)"), state), ErrorCode::kDanglingTarget,
       "branch point 3: default_variant 99 is not one of its variants"},
      {MakeBundle(nodes, R"([{"id": 3, "node": 1, "type": "sometimes", "time": 1,
                             "variants": []}])"),
       ErrorCode::kInvalidValue, "branch point 3: unknown type 'sometimes'"},
      {MakeBundle(nodes, R"([{"id": 3, "node": 9, "type": "manual", "time": 1, "variants": []}])",
                  state),
       ErrorCode::kDanglingTarget, "branch point 3: node 9 is not in the bundle"},
      {MakeBundle(nodes, R"([{"id": 3, "node": 1, "type": "manual", "time": 1,
                             "variants": [{"id": 7, "node": 99}]}])",
                  state),
       ErrorCode::kDanglingTarget, "branch point 3, variant 7: node 99 is not in the bundle"},
      {MakeBundle(nodes, "[]", state, 42), ErrorCode::kDanglingTarget,
       "root 42 is not a node of the bundle"},
      {MakeBundle(R"([{"id": 1}, {"id": 1}])", "[]", state), ErrorCode::kDuplicateId,
       "node 1: id given twice"},
      {MakeBundle(nodes, R"([{"id": 3, "node": 1, "type": "manual", "time": 1,
                             "variants": [{"id": 7, "node": 2}, {"id": 7, "node": 1}]}])",
                  state),
       ErrorCode::kDuplicateId, "branch point 3, variant 7: id given twice"},
      {MakeBundle(nodes, R"([{"id": 3, "node": 1, "type": "manual", "time": 1,
                             "variants": [{"id": 7, "node": 2}]},
                            {"id": 4, "node": 2, "type": "manual", "time": 1,
                             "variants": [{"id": 7, "node": 1}]}])",
                  state),
       ErrorCode::kDuplicateId, "branch point 4, variant 7: id given twice"},
      {MakeBundle(nodes, R"([{"id": 3, "node": 1, "type": "manual", "time": 1, "variants": []},
                            {"id": 3, "node": 2, "type": "manual", "time": 1, "variants": []}])",
                  state),
       ErrorCode::kDuplicateId, "branch point 3: id given twice"},
      {MakeBundle(nodes, "[]", R"([{"name": "n", "type": "int"}, {"name": "n", "type": "int"}])"),
       ErrorCode::kDuplicateId, "variable 'n' declared twice"},
      {MakeBundle(nodes, "[]", R"([{"name": "n", "type": "int", "initial": true}])"),
       ErrorCode::kTypeMismatch, "variable 'n': initial value is a boolean, not int"},
      {MakeBundle(R"([{"id": 1, "duration": -2}])", "[]"), ErrorCode::kInvalidValue,
       "node 1: negative duration"},
      {MakeBundle(R"([{"id": "1"}])", "[]"), ErrorCode::kInvalidValue,
       "nodes[0]: id: expected an integer, got a string"},
      {MakeBundle(R"([{"id": 1, "width": 12.5}])", "[]"), ErrorCode::kInvalidValue,
       "node 1: width: expected an integer or null, got a number"},
      {MakeBundle(nodes, R"([{"id": 3, "node": 1, "type": "manual", "time": 1}])"),
       ErrorCode::kInvalidValue, "branch point 3: variants: expected an array (missing)"},
      {MakeBundle(nodes, R"([{"id": 3, "node": 1, "type": "manual", "variants": []}])"),
       ErrorCode::kInvalidValue, "branch point 3: time: expected a number (missing)"},
      {R"({"format": "pixvault.bundle", "version": 1, "root": 1})", ErrorCode::kInvalidValue,
       "bundle: nodes: expected an array (missing)"},
  };
  for (const Case& c : cases) {
    auto b = LoadBundle(c.text);
    ASSERT_FALSE(b.ok()) << c.text;
    EXPECT_EQ(b.error().code, c.code) << b.error().message;
    EXPECT_THAT(b.error().message, HasSubstr(c.message)) << c.text;
  }
}

TEST(LoadBundle, ClipsAreChecked) {
  const std::string nodes = R"([{"id": 1, "duration": 10}])";
  auto with_clip = [&](std::string_view clip) {
    std::string s = MakeBundle(nodes, "[]");
    s.insert(s.size() - 1, R"(, "clips": [)" + std::string(clip) + "]");
    return s;
  };
  EXPECT_TRUE(LoadBundle(with_clip(R"({"id": 5, "node": 1, "start": 1, "end": 2})")).ok());
  EXPECT_THAT(
      LoadBundle(with_clip(R"({"id": 5, "node": 1, "start": 2, "end": 2})")).error().message,
      HasSubstr("clip 5: range [2, 2] is empty or outside the node"));
  EXPECT_THAT(
      LoadBundle(with_clip(R"({"id": 5, "node": 1, "start": 2, "end": 11})")).error().message,
      HasSubstr("clip 5: range"));
  auto dangling =
      LoadBundle(with_clip(R"({"id": 5, "node": 1, "start": 1, "end": 2, "extracted_node": 77})"));
  EXPECT_EQ(dangling.error().code, ErrorCode::kDanglingTarget);
  EXPECT_THAT(dangling.error().message, HasSubstr("clip 5: extracted_node 77"));
}

TEST(LoadBundle, IgnoresUnknownMembers) {
  std::string doc(kDoor);
  doc.insert(doc.find(R"("root")"), R"("future": {"x": [1, 2]}, )");
  EXPECT_TRUE(LoadBundle(doc).ok());
}

TEST(LoadBundle, LenientModeReportsEveryIssueAndKeepsGoing) {
  const std::string text =
      MakeBundle(R"([{"id": 1, "duration": 10}, {"id": 2, "duration": 10}, {"id": 2}])",
                 R"([{"id": 3, "node": 1, "type": "manual", "time": 5, "default_variant": 9,
           "variants": [
             {"id": 7, "node": 2, "condition": {"eq": ["n", "x"]}},
             {"id": 8, "node": 99, "weight": -3},
             {"id": 10, "node": 2, "condition": {"has": "ghost"},
              "effects": [{"frob": "n"}]}]}])",
                 R"([{"name": "n", "type": "int"}])");
  auto strict = LoadBundle(text);
  ASSERT_FALSE(strict.ok());
  EXPECT_THAT(strict.error().message, HasSubstr("more issues"));

  Bundle b = MustLoad(text, LoadMode::kLenient);
  std::vector<std::string> kinds;
  for (const Issue& issue : b.load_issues()) kinds.emplace_back(IssueKindName(issue.kind));
  EXPECT_EQ(kinds, (std::vector<std::string>{"duplicate_id", "type_mismatch", "invalid_value",
                                             "dangling_target", "undeclared_variable",
                                             "invalid_expression", "dangling_target"}));
  const Issue& mismatch = b.load_issues()[1];
  EXPECT_EQ(mismatch.ids.branch_point, 3);
  EXPECT_EQ(mismatch.ids.variant, 7);
  const Issue& dangling = b.load_issues()[3];
  EXPECT_EQ(dangling.ids.variant, 8);
  EXPECT_EQ(dangling.ids.node, 99);
  EXPECT_EQ(b.load_issues()[6].ids.variant, 9);  // the default_variant
  // Invalid conditions never hold; the player does not crash on the broken bundle.
  Player player(b, 1);
  std::vector<Event> events;
  ASSERT_TRUE(player.Advance(5, events).ok());
  EXPECT_TRUE(player.OpenChoices().empty());
  ASSERT_TRUE(player.Advance(100, events).ok());
  EXPECT_TRUE(player.ended());
}

// ------------------------------------------------------------------------------------------
// Validation

TEST(Validate, AValidBundleHasNoIssues) {
  Bundle b = MustLoad(kDoor);
  auto issues = Validate(b);
  EXPECT_TRUE(issues.empty()) << issues.front().message;
  EXPECT_EQ(ValidationToJson(issues), R"({"ok":true,"issues":[]})");
}

TEST(Validate, ReportsDanglingTargetsWithTheirIds) {
  Bundle b = MustLoad(MakeBundle(R"([{"id": 1}, {"id": 2}])",
                                 R"([{"id": 3, "node": 1, "type": "automatic", "time": 0,
                                      "variants": [{"id": 7, "node": 2}, {"id": 8, "node": 5}]}])"),
                      LoadMode::kLenient);
  auto issues = Validate(b);
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].kind, IssueKind::kDanglingTarget);
  EXPECT_EQ(IssueToJson(issues[0]),
            R"({"kind":"dangling_target","message":"branch point 3, variant 8: node 5 is not in )"
            R"(the bundle","ids":{"branch_point":3,"variant":8,"node":5}})");
}

TEST(Validate, ReportsUnreachableNodes) {
  Bundle b = MustLoad(MakeBundle(R"([{"id": 1}, {"id": 2}, {"id": 4}])",
                                 R"([{"id": 3, "node": 1, "type": "automatic", "time": 0,
                                      "variants": [{"id": 7, "node": 2}]},
                                     {"id": 5, "node": 4, "type": "automatic", "time": 0,
                                      "variants": [{"id": 8, "node": 1}]}])"));
  auto issues = Validate(b);
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].kind, IssueKind::kUnreachableNode);
  EXPECT_EQ(issues[0].ids.node, 4);
  EXPECT_EQ(issues[0].message, "node 4 is not reachable from the root 1");
}

TEST(Validate, ReportsCyclesWithoutExit) {
  // 1 -> 2 <-> 3 surely (unconditional automatic), 1 -> 4 <-> 5 only when a condition holds
  // (may exit), 6 loops on itself surely. 1 may end (its branch is conditional).
  Bundle b = MustLoad(
      MakeBundle(R"([{"id": 1, "duration": 9}, {"id": 2, "duration": 9}, {"id": 3, "duration": 9},
                     {"id": 4, "duration": 9}, {"id": 5, "duration": 9}, {"id": 6}])",
                 R"([
        {"id": 10, "node": 1, "type": "conditional", "time": 1, "variants": [
          {"id": 100, "node": 2, "condition": {"has": "f"}},
          {"id": 101, "node": 4, "condition": {"not": {"has": "f"}}},
          {"id": 102, "node": 6, "condition": {"eq": ["f", true]}}]},
        {"id": 11, "node": 2, "type": "automatic", "time": 1, "default_variant": 110,
         "variants": [{"id": 110, "node": 3, "weight": 0}]},
        {"id": 12, "node": 3, "type": "random", "time": 1, "variants": [
          {"id": 120, "node": 2, "weight": 2}, {"id": 121, "node": 1, "weight": 0}]},
        {"id": 13, "node": 4, "type": "automatic", "time": 1, "variants": [
          {"id": 130, "node": 5, "condition": {"has": "f"}}]},
        {"id": 14, "node": 5, "type": "manual", "time": 1, "variants": [{"id": 140, "node": 4}]},
        {"id": 15, "node": 6, "type": "automatic", "time": 0, "variants": [{"id": 150, "node": 6}]}
      ])",
                 R"([{"name": "f", "type": "bool"}])"));
  auto issues = Validate(b);
  ASSERT_EQ(issues.size(), 2u) << issues[0].message;
  EXPECT_EQ(issues[0].kind, IssueKind::kCycleWithoutExit);
  EXPECT_EQ(issues[0].ids.nodes, (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(issues[0].message,
            "nodes 2, 3 can reach each other but no ending is reachable from them");
  EXPECT_EQ(issues[1].ids.nodes, (std::vector<std::int64_t>{6}));
}

TEST(Validate, ReportsUndeclaredVariablesAndTypeMismatchesInLenientMode) {
  Bundle b = MustLoad(MakeBundle(R"([{"id": 1}, {"id": 2}])",
                                 R"([{"id": 3, "node": 1, "type": "manual", "time": 0,
                                      "variants": [
                                        {"id": 7, "node": 2, "condition": {"has": "ghost"}},
                                        {"id": 8, "node": 2,
                                         "effects": [{"set": "n", "value": "x"}]}]}])",
                                 R"([{"name": "n", "type": "int"}])"),
                      LoadMode::kLenient);
  auto issues = Validate(b);
  ASSERT_EQ(issues.size(), 2u);
  EXPECT_EQ(issues[0].kind, IssueKind::kUndeclaredVariable);
  EXPECT_EQ(issues[0].ids.variant, 7);
  EXPECT_EQ(issues[0].message, "branch point 3, variant 7: condition: undeclared variable 'ghost'");
  EXPECT_EQ(issues[1].kind, IssueKind::kTypeMismatch);
  EXPECT_EQ(issues[1].ids.variant, 8);
  EXPECT_EQ(issues[1].ids.branch_point, 3);
}

TEST(Validate, ReportsFormatMismatchesNamingEachField) {
  Bundle b =
      MustLoad(MakeBundle(R"([{"id": 1, "codec": "h264", "width": 1280, "height": 720, "fps": 24,
                      "pixel_format": "yuv420p"},
                     {"id": 2, "codec": "hevc", "width": 1920, "height": 720, "fps": 24.0,
                      "pixel_format": null},
                     {"id": 3, "codec": null, "width": null, "height": null, "fps": null}])",
                          R"([{"id": 4, "node": 1, "type": "manual", "time": 0,
                      "variants": [{"id": 7, "node": 2}, {"id": 8, "node": 3}]}])"));
  auto issues = Validate(b);
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].kind, IssueKind::kFormatMismatch);
  EXPECT_EQ(issues[0].fields, (std::vector<std::string>{"codec", "width"}));
  EXPECT_EQ(issues[0].ids.node, 2);
  EXPECT_EQ(issues[0].ids.variant, 7);
  EXPECT_EQ(issues[0].message,
            "branch point 4, variant 7: node 2 differs from node 1 in codec hevc vs h264, width "
            "1920 vs 1280");
  EXPECT_THAT(IssueToJson(issues[0]), HasSubstr(R"("fields":["codec","width"])"));
}

// ------------------------------------------------------------------------------------------
// Player

TEST(Player, OpensTheWindowThenAppliesTheTimeoutRule) {
  Bundle b = MustLoad(kDoor);
  Player p(b, 1);
  std::vector<Event> events;
  ASSERT_TRUE(p.Advance(0, events).ok());
  EXPECT_TRUE(events.empty());
  EXPECT_EQ(p.NextEventTime(), 4.5);
  ASSERT_TRUE(p.Advance(4.0, events).ok());
  EXPECT_TRUE(events.empty());
  EXPECT_TRUE(p.OpenChoices().empty());
  ASSERT_TRUE(p.Advance(0.5, events).ok());
  ASSERT_EQ(Kinds(events), std::vector<EventKind>{EventKind::kWindowOpened});
  EXPECT_EQ(events[0].branch_point->id, 3);
  EXPECT_DOUBLE_EQ(events[0].time, 4.5);
  // Only "walk away": "open" needs the key.
  auto choices = p.OpenChoices();
  ASSERT_EQ(choices.size(), 1u);
  EXPECT_EQ(choices[0].variant->id, 8);
  events.clear();
  // At hide_at the window closes; the default's condition fails, so a weighted pick among
  // the variants that hold: only 8. The 0.5 s beyond hide_at carry over into node 14.
  ASSERT_TRUE(p.Advance(2.0, events).ok());
  ASSERT_EQ(Kinds(events),
            (std::vector<EventKind>{EventKind::kWindowClosed, EventKind::kBranchTaken}));
  EXPECT_EQ(events[1].variant->id, 8);
  EXPECT_EQ(events[1].rule, Rule::kTimeoutRandom);
  EXPECT_EQ(events[1].target->id, 14);
  EXPECT_DOUBLE_EQ(events[1].time, 6.0);
  EXPECT_EQ(p.node()->id, 14);
  EXPECT_DOUBLE_EQ(p.time(), 0.5);
  events.clear();
  ASSERT_TRUE(p.Advance(10, events).ok());
  ASSERT_EQ(Kinds(events), std::vector<EventKind>{EventKind::kEnded});
  EXPECT_EQ(events[0].node->id, 14);
  EXPECT_DOUBLE_EQ(events[0].time, 4.0);
  EXPECT_TRUE(p.ended());
  EXPECT_DOUBLE_EQ(p.time(), 4.0);
}

TEST(Player, TimeoutTakesTheDefaultWhenItsConditionHolds) {
  Bundle b = MustLoad(kDoor);
  Player p(b, 1);
  ASSERT_TRUE(p.Set("has_key", true).ok());
  std::vector<Event> events;
  ASSERT_TRUE(p.Advance(6.0, events).ok());
  ASSERT_EQ(events.back().kind, EventKind::kBranchTaken);
  EXPECT_EQ(events.back().rule, Rule::kDefault);
  EXPECT_EQ(p.node()->id, 13);
  EXPECT_EQ(std::get<std::int64_t>(*p.Get("coins")), 5);
  EXPECT_FALSE(std::get<bool>(*p.Get("has_key")));
  // Play to the ending.
  ASSERT_TRUE(p.Advance(100, events).ok());
  EXPECT_TRUE(p.ended());
  EXPECT_EQ(events.back().kind, EventKind::kEnded);
  EXPECT_EQ(events.back().node->id, 13);
}

TEST(Player, ChoosesOnlyOpenVariants) {
  Bundle b = MustLoad(kDoor);
  Player p(b, 1);
  std::vector<Event> events;
  EXPECT_EQ(p.Choose(8, events).error().code, ErrorCode::kNotOpen);  // before show_at
  EXPECT_EQ(p.Choose(99, events).error().code, ErrorCode::kNotFound);
  ASSERT_TRUE(p.Advance(5, events).ok());
  auto closed = p.Choose(7, events);  // condition has_key == true fails
  ASSERT_FALSE(closed.ok());
  EXPECT_EQ(closed.error().code, ErrorCode::kNotOpen);
  EXPECT_THAT(closed.error().message, HasSubstr("condition does not hold"));
  ASSERT_TRUE(p.Set("has_key", true).ok());
  events.clear();
  ASSERT_TRUE(p.Choose(7, events).ok());
  ASSERT_EQ(Kinds(events), std::vector<EventKind>{EventKind::kBranchTaken});
  EXPECT_EQ(events[0].rule, Rule::kChoice);
  EXPECT_DOUBLE_EQ(events[0].time, 5.0);
  EXPECT_EQ(p.node()->id, 13);
  EXPECT_DOUBLE_EQ(p.time(), 0);
  EXPECT_EQ(std::get<std::int64_t>(*p.Get("coins")), 5);
  EXPECT_EQ(p.Choose(8, events).error().code, ErrorCode::kNotOpen);  // other node now
  ASSERT_TRUE(p.Advance(5, events).ok());
  EXPECT_EQ(p.Choose(8, events).error().code, ErrorCode::kEnded);
}

TEST(Player, ChoosesAChoiceOfThisBundleOnly) {
  Bundle b = MustLoad(kDoor);
  Bundle other = MustLoad(kDoor);
  Player p(b, 1);
  Player q(other, 1);
  std::vector<Event> events;
  ASSERT_TRUE(p.Advance(5, events).ok());
  ASSERT_TRUE(q.Advance(5, events).ok());
  auto foreign = q.OpenChoices();
  ASSERT_EQ(foreign.size(), 1u);
  EXPECT_EQ(p.Choose(foreign[0], events).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(p.Choose(Choice{nullptr, nullptr}, events).error().code, ErrorCode::kNotFound);
  // A variant of this bundle that is not open now is refused like by id.
  const BranchPoint* door = b.FindBranchPoint(3);
  EXPECT_EQ(p.Choose(Choice{door, &door->variants[0]}, events).error().code, ErrorCode::kNotOpen);
  auto open = p.OpenChoices();
  ASSERT_EQ(open.size(), 1u);
  events.clear();
  ASSERT_TRUE(p.Choose(open[0], events).ok());
  EXPECT_EQ(p.node()->id, 14);
  EXPECT_EQ(Kinds(events), std::vector<EventKind>{EventKind::kBranchTaken});
}

TEST(Player, WindowIsHalfOpen) {
  Bundle b = MustLoad(kDoor);
  Player p(b, 1);
  std::vector<Event> events;
  ASSERT_TRUE(p.Advance(5.5, events).ok());
  EXPECT_EQ(p.OpenChoices().size(), 1u);
  EXPECT_EQ(p.NextEventTime(), 6.0);
  ASSERT_TRUE(p.Advance(p.NextEventTime() - p.time(), events).ok());  // exactly hide_at
  EXPECT_EQ(p.node()->id, 14);
}

TEST(Player, ChoiceWhoseEffectsOverflowIsRefusedAndChangesNothing) {
  Bundle b = MustLoad(kDoor);
  Player p(b, 1);
  ASSERT_TRUE(p.Set("has_key", true).ok());
  ASSERT_TRUE(p.Set("coins", std::numeric_limits<std::int64_t>::max()).ok());
  std::vector<Event> events;
  ASSERT_TRUE(p.Advance(5, events).ok());
  events.clear();
  auto s = p.Choose(7, events);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kOverflow);
  EXPECT_THAT(s.error().message, HasSubstr("variant 7: effects[1]"));
  EXPECT_TRUE(events.empty());
  EXPECT_EQ(p.node()->id, 12);
  EXPECT_TRUE(std::get<bool>(*p.Get("has_key")));
  // At the timeout the default is still taken, its failed effects reported, state unchanged.
  ASSERT_TRUE(p.Advance(1, events).ok());
  ASSERT_EQ(Kinds(events),
            (std::vector<EventKind>{EventKind::kWindowClosed, EventKind::kEffectsFailed,
                                    EventKind::kBranchTaken}));
  EXPECT_EQ(p.node()->id, 13);
  EXPECT_TRUE(std::get<bool>(*p.Get("has_key")));
  EXPECT_EQ(std::get<std::int64_t>(*p.Get("coins")), std::numeric_limits<std::int64_t>::max());
}

const std::string kRules = MakeBundle(
    R"([{"id": 1, "duration": 10}, {"id": 2, "duration": 1}, {"id": 3, "duration": 1},
        {"id": 4, "duration": 1}, {"id": 5, "duration": 1}])",
    R"([
      {"id": 10, "node": 1, "type": "automatic", "time": 2, "default_variant": 101,
       "variants": [{"id": 100, "node": 2}, {"id": 101, "node": 3, "weight": 0}]},
      {"id": 20, "node": 2, "type": "conditional", "time": 0.5, "variants": [
        {"id": 200, "node": 3, "condition": {"gt": ["n", 5]}},
        {"id": 201, "node": 4, "condition": {"gt": ["n", 0]}},
        {"id": 202, "node": 5, "condition": {"gt": ["n", 1]}}]},
      {"id": 30, "node": 3, "type": "random", "time": 0.5, "variants": [
        {"id": 300, "node": 4, "weight": 1}, {"id": 301, "node": 5, "weight": 3},
        {"id": 302, "node": 2, "weight": 0}]}
    ])",
    R"([{"name": "n", "type": "int", "initial": 3}])");

TEST(Player, AutomaticTakesTheDefaultEvenWithWeightZero) {
  Bundle b = MustLoad(kRules);
  Player p(b, 7);
  std::vector<Event> events;
  ASSERT_TRUE(p.Advance(2, events).ok());
  ASSERT_EQ(Kinds(events), std::vector<EventKind>{EventKind::kBranchTaken});  // no window
  EXPECT_EQ(events[0].variant->id, 101);
  EXPECT_EQ(events[0].rule, Rule::kDefault);
}

TEST(Player, ConditionalTakesTheFirstVariantThatHolds) {
  Bundle c = MustLoad(WithRoot(kRules, 2));
  for (auto [n, expected] :
       std::vector<std::pair<std::int64_t, std::int64_t>>{{3, 4}, {9, 3}, {1, 4}}) {
    Player p(c, 7);
    ASSERT_TRUE(p.Set("n", n).ok());
    std::vector<Event> events;
    ASSERT_TRUE(p.Advance(0.5, events).ok());
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].rule, Rule::kConditional);
    EXPECT_EQ(events[0].target->id, expected) << "n=" << n;
  }
  Player none(c, 7);
  ASSERT_TRUE(none.Set("n", std::int64_t{0}).ok());
  std::vector<Event> events;
  ASSERT_TRUE(none.Advance(5, events).ok());  // nothing holds: plays on to its end
  ASSERT_EQ(Kinds(events), std::vector<EventKind>{EventKind::kEnded});
  EXPECT_EQ(events[0].node->id, 2);
}

TEST(Player, RandomFollowsTheWeightsAndNeverPicksWeightZero) {
  Bundle b = MustLoad(WithRoot(kRules, 3));
  int to4 = 0, to5 = 0;
  const int kSeeds = 4000;
  for (int seed = 0; seed < kSeeds; ++seed) {
    Player p(b, static_cast<std::uint64_t>(seed));
    std::vector<Event> events;
    ASSERT_TRUE(p.Advance(0.5, events).ok());
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].rule, Rule::kRandom);
    EXPECT_NE(events[0].variant->id, 302);
    (events[0].target->id == 4 ? to4 : to5)++;
  }
  EXPECT_NEAR(to4 / static_cast<double>(kSeeds), 0.25, 0.04);
  EXPECT_NEAR(to5 / static_cast<double>(kSeeds), 0.75, 0.04);
}

TEST(Player, RandomWithOnlyZeroWeightsPlaysOn) {
  Bundle b = MustLoad(MakeBundle(R"([{"id": 1, "duration": 2}, {"id": 2}])",
                                 R"([{"id": 3, "node": 1, "type": "random", "time": 1,
                                      "variants": [{"id": 7, "node": 2, "weight": 0}]}])"));
  Player p(b, 1);
  std::vector<Event> events;
  ASSERT_TRUE(p.Advance(3, events).ok());
  ASSERT_EQ(Kinds(events), std::vector<EventKind>{EventKind::kEnded});
  EXPECT_EQ(p.node()->id, 1);
}

TEST(Player, ManualVariantOfWeightZeroCanBeChosenButIsNotPickedAtTimeout) {
  Bundle b = MustLoad(MakeBundle(R"([{"id": 1, "duration": 4}, {"id": 2}, {"id": 3}])",
                                 R"([{"id": 3, "node": 1, "type": "manual", "time": 2,
                                      "show_at": 1, "variants": [
                                        {"id": 7, "node": 2, "weight": 0},
                                        {"id": 8, "node": 3, "weight": 0.5}]}])"));
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    Player p(b, seed);
    std::vector<Event> events;
    ASSERT_TRUE(p.Advance(2, events).ok());
    EXPECT_EQ(p.node()->id, 3);
  }
  Player p(b, 1);
  std::vector<Event> events;
  ASSERT_TRUE(p.Advance(1.5, events).ok());
  ASSERT_TRUE(p.Choose(7, events).ok());
  EXPECT_EQ(p.node()->id, 2);
}

TEST(Player, NodeOfUnknownDurationEndsAfterItsLastDeadline) {
  Bundle b = MustLoad(MakeBundle(R"([{"id": 1}, {"id": 2, "duration": 1}])",
                                 R"([{"id": 3, "node": 1, "type": "conditional", "time": 2,
                                      "variants": [{"id": 7, "node": 2, "condition": false}]}])"));
  EXPECT_EQ(b.EffectiveDuration(0), 2.0);
  Player p(b, 1);
  std::vector<Event> events;
  ASSERT_TRUE(p.Advance(0, events).ok());
  EXPECT_FALSE(p.ended());
  ASSERT_TRUE(p.Advance(2, events).ok());
  EXPECT_TRUE(p.ended());
  EXPECT_EQ(p.node()->id, 1);
  // A node without duration nor branch points ends at once: delivered by Advance(0).
  Bundle still = MustLoad(MakeBundle(R"([{"id": 1}])", "[]"));
  Player q(still, 1);
  EXPECT_FALSE(q.ended());
  ASSERT_TRUE(q.Advance(0, events).ok());
  EXPECT_TRUE(q.ended());
}

TEST(Player, DeadlinesRunBeforeOpeningsAtTheSameInstant) {
  Bundle b = MustLoad(MakeBundle(R"([{"id": 1, "duration": 9}, {"id": 2, "duration": 1}])",
                                 R"([{"id": 4, "node": 1, "type": "manual", "time": 6,
                                      "show_at": 4, "variants": [{"id": 8, "node": 2}]},
                                     {"id": 3, "node": 1, "type": "manual", "time": 4,
                                      "show_at": 2, "variants": [
                                        {"id": 7, "node": 2, "condition": false}]}])"));
  Player p(b, 1);
  std::vector<Event> events;
  ASSERT_TRUE(p.Advance(4, events).ok());
  ASSERT_EQ(Kinds(events),
            (std::vector<EventKind>{EventKind::kWindowOpened, EventKind::kWindowClosed,
                                    EventKind::kWindowOpened}));
  EXPECT_EQ(events[1].branch_point->id, 3);
  EXPECT_EQ(events[2].branch_point->id, 4);
  EXPECT_EQ(p.OpenChoices().size(), 1u);
}

TEST(Player, ZeroTimeLoopIsReportedNotHung) {
  Bundle b = MustLoad(MakeBundle(R"([{"id": 1}, {"id": 2}])",
                                 R"([{"id": 3, "node": 1, "type": "automatic", "time": 0,
                                      "variants": [{"id": 7, "node": 2}]},
                                     {"id": 4, "node": 2, "type": "automatic", "time": 0,
                                      "variants": [{"id": 8, "node": 1}]}])"));
  Player p(b, 1);
  std::vector<Event> events;
  auto s = p.Advance(1, events);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kStalled);
}

TEST(Player, RefusesBadTimeSteps) {
  Bundle b = MustLoad(kDoor);
  Player p(b, 1);
  std::vector<Event> events;
  EXPECT_EQ(p.Advance(-1, events).error().code, ErrorCode::kInvalidValue);
  EXPECT_EQ(p.Advance(std::nan(""), events).error().code, ErrorCode::kInvalidValue);
  EXPECT_EQ(p.Advance(std::numeric_limits<double>::infinity(), events).error().code,
            ErrorCode::kInvalidValue);
}

TEST(Player, SameSeedSameWalkEverywhere) {
  // Every node: a random branch point to three others; a long walk is a seeded sequence.
  std::string nodes = "[", bps = "[";
  for (int i = 1; i <= 20; ++i) {
    nodes +=
        (i > 1 ? "," : "") + std::string(R"({"id": )") + std::to_string(i) + R"(, "duration": 1})";
    bps += (i > 1 ? "," : "") + std::string(R"({"id": )") + std::to_string(100 + i) +
           R"(, "node": )" + std::to_string(i) + R"(, "type": "random", "time": 0.5,
           "variants": [)";
    for (int k = 1; k <= 3; ++k) {
      bps += (k > 1 ? "," : "") + std::string(R"({"id": )") + std::to_string(1000 + i * 10 + k) +
             R"(, "node": )" + std::to_string((i * 7 + k * 3) % 20 + 1) + R"(, "weight": )" +
             std::to_string(k) + "}";
    }
    bps += "]}";
  }
  Bundle b = MustLoad(MakeBundle(nodes + "]", bps + "]"));
  auto walk = [&](std::uint64_t seed) {
    Player p(b, seed);
    std::vector<Event> events;
    EXPECT_TRUE(p.Advance(200, events).ok());
    std::vector<std::int64_t> ids;
    for (const Event& e : events) ids.push_back(e.target->id);
    return ids;
  };
  auto a = walk(42);
  EXPECT_EQ(a.size(), 400u);
  EXPECT_EQ(a, walk(42));
  EXPECT_NE(a, walk(43));
  Player p(b, 42);
  std::vector<Event> events;
  ASSERT_TRUE(p.Advance(100, events).ok());
  p.Reset();
  events.clear();
  ASSERT_TRUE(p.Advance(200, events).ok());
  std::vector<std::int64_t> again;
  for (const Event& e : events) again.push_back(e.target->id);
  EXPECT_EQ(again, a);
}

TEST(Rng, MatchesTheReferenceXoshiro256StarStar) {
  // Reference values from an independent implementation of splitmix64 + xoshiro256**.
  Rng rng(42);
  EXPECT_EQ(rng.Next(), 0x15780b2e0c2ec716ull);
  EXPECT_EQ(rng.Next(), 0x6104d9866d113a7eull);
  EXPECT_EQ(rng.Next(), 0xae17533239e499a1ull);
  Rng unit(1);
  for (int i = 0; i < 1000; ++i) {
    double d = unit.NextDouble();
    ASSERT_GE(d, 0.0);
    ASSERT_LT(d, 1.0);
    ASSERT_LT(unit.Below(3), 3u);
  }
}

TEST(Player, DanglingRootLeavesThePlayerEnded) {
  Bundle b = MustLoad(MakeBundle(R"([{"id": 1}])", "[]", "[]", 9), LoadMode::kLenient);
  Player p(b, 1);
  EXPECT_TRUE(p.ended());
  EXPECT_EQ(p.node(), nullptr);
  std::vector<Event> events;
  EXPECT_TRUE(p.Advance(1, events).ok());
  EXPECT_TRUE(p.OpenChoices().empty());
  EXPECT_EQ(p.Choose(1, events).error().code, ErrorCode::kEnded);
}

// ------------------------------------------------------------------------------------------
// Robustness: mutated and truncated bundles never crash the loader, the validator or a
// player (run under ASan/UBSan in CI).

void Exercise(std::string_view text) {
  for (LoadMode mode : {LoadMode::kStrict, LoadMode::kLenient}) {
    auto b = LoadBundle(text, mode);
    if (!b.ok()) {
      EXPECT_FALSE(b.error().message.empty());
      continue;
    }
    (void)Validate(*b);
    Player p(*b, 3);
    std::vector<Event> events;
    std::vector<Choice> choices;
    for (int step = 0; step < 20 && !p.ended(); ++step) {
      p.OpenChoices(choices);
      if (!choices.empty()) {
        (void)p.Choose(choices[0].variant->id, events);
      } else {
        (void)p.Advance(0.75, events);
      }
    }
  }
}

TEST(Robustness, TruncatedBundlesNeverCrash) {
  for (std::size_t n = 0; n <= kDoor.size(); ++n) Exercise(kDoor.substr(0, n));
}

TEST(Robustness, MutatedBundlesNeverCrash) {
  const std::string base(kDoor);
  const std::string alphabet = "{}[]\",:0123456789-.eE+ tfnu\\abc\x80\xff";
  Rng rng(2024);
  int loaded = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string s = base;
    const int edits = 1 + static_cast<int>(rng.Below(4));
    for (int e = 0; e < edits && !s.empty(); ++e) {
      std::size_t at = static_cast<std::size_t>(rng.Below(s.size()));
      switch (rng.Below(5)) {
        case 0:
          s[at] = alphabet[static_cast<std::size_t>(rng.Below(alphabet.size()))];
          break;
        case 1:
          s.insert(at, 1, alphabet[static_cast<std::size_t>(rng.Below(alphabet.size()))]);
          break;
        case 2:
          s.erase(at, 1 + static_cast<std::size_t>(rng.Below(8)));
          break;
        case 3: {  // duplicate a span
          std::size_t len = 1 + static_cast<std::size_t>(rng.Below(40));
          s.insert(at, s.substr(at, len));
          break;
        }
        default:
          s.resize(at);
          break;
      }
    }
    if (LoadBundle(s, LoadMode::kLenient).ok()) ++loaded;
    Exercise(s);
  }
  EXPECT_GT(loaded, 0);  // the mutations also reach the semantic checks
}

TEST(Robustness, SemanticMutationsNeverCrash) {
  // Swap numbers and strings in places the structure allows, so loading gets further.
  const std::string base(kDoor);
  const std::vector<std::pair<std::string, std::string>> swaps = {
      {"\"node\": 13", "\"node\": 12"},
      {"\"node\": 14", "\"node\": 99"},
      {"\"default_variant\": 7", "\"default_variant\": 8"},
      {"\"hide_at\": 6.0", "\"hide_at\": 0"},
      {"\"duration\": 8.0", "\"duration\": 0"},
      {"\"duration\": 8.0", "\"duration\": null"},
      {"\"show_at\": 4.5", "\"show_at\": 7"},
      {"\"weight\": 2.0", "\"weight\": 0"},
      {"\"manual\"", "\"random\""},
      {"\"manual\"", "\"conditional\""},
      {"\"manual\"", "\"automatic\""},
      {"\"root\": 12", "\"root\": 14"},
      {"{\"eq\": [\"has_key\", true]}", "{\"and\": [{\"or\": [false]}, {\"not\": null}]}"},
      {"\"value\": 5", "\"value\": 9223372036854775807"},
      {"\"id\": 8", "\"id\": 7"},
  };
  for (std::size_t mask = 0; mask < (1u << 10); mask += 3) {
    std::string s = base;
    for (std::size_t k = 0; k < swaps.size(); ++k) {
      if (((mask * 2654435761u) >> k) & 1u) {
        std::size_t at = s.find(swaps[k].first);
        if (at != std::string::npos) s.replace(at, swaps[k].first.size(), swaps[k].second);
      }
    }
    Exercise(s);
  }
}

}  // namespace
}  // namespace pixvault::branch
