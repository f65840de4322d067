// Branch points, variants, clips and game state variables: their JSON shapes, and the checks
// of variant conditions and effects against the owner's declared state variables (with the
// same compiler the game runtime uses, include/pixvault/branch_runtime.hpp, so whatever is
// saved here loads in a game).
#pragma once

#include <string_view>

#include <boost/json/object.hpp>

#include "core/error.h"
#include "core/model.h"
#include "storage/store.h"

namespace pixvault::service {

boost::json::object BranchToJson(const Branch& b);
boost::json::object VariantToJson(const BranchVariant& v);
boost::json::object ClipToJson(const Clip& c);
boost::json::object StateVariableToJson(const StateVariable& v);

// Checks a variant's `conditions` and `effects` (JSON texts; "null" means none) against the
// state variables `owner` declared. kInvalidArgument naming the field and the problem (not
// JSON, unknown operator, undeclared variable, a literal of the wrong type, ...).
Status CheckVariantRules(storage::Store& store, const Viewer& viewer, UserId owner,
                         std::string_view conditions, std::string_view effects);

}  // namespace pixvault::service
