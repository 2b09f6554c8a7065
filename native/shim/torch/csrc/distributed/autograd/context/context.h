// Stands in for a header Debian's libtorch-dev 1.13 leaves out: c10d/reducer.hpp includes the distributed
// autograd context for two names only — DistAutogradContext::GradCallback (checked by a static_assert) and
// ContextPtr (a shared_ptr member of the Reducer, whose layout does not depend on what it points to).
// alembic never uses distributed autograd; scripts/libtorch-paths.cjs adds this directory to the include
// path only where the real header is missing.
#pragma once

#include <ATen/core/Tensor.h>

#include <functional>
#include <memory>

namespace torch {
namespace distributed {
namespace autograd {

class DistAutogradContext {
 public:
  using GradCallback = std::function<bool(at::Tensor&)>;
};

using ContextPtr = std::shared_ptr<DistAutogradContext>;

}  // namespace autograd
}  // namespace distributed
}  // namespace torch
