// W3C PROV-JSON (https://www.w3.org/Submission/prov-json/) export of a lineage graph.
//
// Mapping:
//   - every asset is an `entity` "asset:<id>" (prov:type pixvault:<media_type>, prov:label
//     = description, pixvault:sha256, pixvault:mime_type, pixvault:created_at as xsd:dateTime,
//     duration, size);
//   - operations are `activity` records: one per operation_job_id ("job:<id>"), or, for edges
//     without a job, one per (child, operation_type) ("op:<child>-<operation_type>", with
//     "derivation" for edges without an operation type);
//   - asset owners are `agent`s "user:<id>" (prov:Person); the provider that generated an
//     asset (provider_id other than "user_upload") is an agent "provider:<id>"
//     (prov:SoftwareAgent);
//   - relations: per edge a `used` (activity used the parent, prov:role pixvault:<role>,
//     with the time range / frame) and a `wasDerivedFrom` (child from parent, naming the
//     activity, usage and generation); per (activity, child) a `wasGeneratedBy` at the
//     child's created_at; per activity a `wasAssociatedWith` to the child's owner and, when
//     the child came from a provider, to that provider; per asset a `wasAttributedTo` to its
//     owner. Relation ids are blank nodes ("_:used-<edge id>", ...), unique in the document.
// Pure function of its input; thread-safe.
#pragma once

#include <boost/json/value.hpp>

#include "service/lineage.h"

namespace pixvault::service {

// Vocabulary namespace of the pixvault: prefix.
inline constexpr const char* kPixvaultNamespace = "https://pixvault.dev/ns/prov#";

boost::json::object ProvenanceDocument(const LineageGraph& graph);

}  // namespace pixvault::service
