// The wire format of lineage edges sent to POST /api/v1/lineage, and the OpenAPI schemas of
// the lineage routes. Parsing checks shapes and types only; the store checks values (roles,
// ranges, the parent's duration and frame count, cycles) in its transaction.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/model.h"

namespace pixvault::http {

// Edges per POST; a storyboard's keyframes fit many times over.
inline constexpr std::size_t kMaxLineageBatch = 1000;

// One edge object, or {"edges": [edge, ...]} with 1..kMaxLineageBatch edges. kInvalidArgument
// for malformed JSON, unknown fields, wrong types, missing ids, an unknown operation_type,
// non-finite numbers, or a batch size out of range; messages name the field, prefixed with
// "edges[i]." in a batch.
Result<std::vector<LineageEdge>> ParseLineageEdges(std::string_view body);

// Component schemas (a JSON object text) merged into the OpenAPI document.
extern const char* const kLineageSchemas;

}  // namespace pixvault::http
