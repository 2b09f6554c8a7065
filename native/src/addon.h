// What the addon's source files share: the tensor handle table's accessors, argument readers, the
// `guarded` error boundary and the OP macro that registers a binding. addon.cc defines them; other
// files (distributed.cc) add their own ops with the same conventions, so every binding reports errors
// the same way.
#pragma once

#include <napi.h>
#include <torch/torch.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace alembic {

class OpError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Argument readers: argument i as a tensor (by handle), tensor list, number, integer, boolean, string.
const at::Tensor& T(const Napi::CallbackInfo& info, size_t i);
std::vector<at::Tensor> TL(const Napi::CallbackInfo& info, size_t i);
double D(const Napi::CallbackInfo& info, size_t i);
int64_t I(const Napi::CallbackInfo& info, size_t i);
bool B(const Napi::CallbackInfo& info, size_t i);
std::string S(const Napi::CallbackInfo& info, size_t i);

// A new tensor handle for JavaScript.
Napi::Value R(Napi::Env env, at::Tensor t);

// The error boundary's two halves: forget the previous op's inputs; throw a JS Error naming op and inputs.
void begin_op();
[[noreturn]] void throw_op_error(const char* name, const Napi::CallbackInfo& info, std::string message);

// Runs one op; converts any C++ exception into a JS Error "op(inputs): message".
template <typename F>
Napi::Value guarded(const char* name, const Napi::CallbackInfo& info, F&& body) {
  begin_op();
  try {
    return body();
  } catch (const Napi::Error&) {
    throw;
  } catch (const c10::Error& e) {
    throw_op_error(name, info, e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw_op_error(name, info, e.what());
  }
}

using Binding = Napi::Value (*)(const Napi::CallbackInfo&);
struct Entry {
  const char* name;
  Binding fn;
};
std::vector<Entry>& registry();
struct Registrar {
  Registrar(const char* name, Binding fn) { registry().push_back({name, fn}); }
};

}  // namespace alembic

// Defines and registers the binding NAME; the body reads `info` and returns a Napi::Value.
#define OP(NAME)                                                                   \
  Napi::Value op_body_##NAME(const Napi::CallbackInfo& info);                      \
  Napi::Value op_##NAME(const Napi::CallbackInfo& info) {                          \
    return alembic::guarded(#NAME, info, [&]() { return op_body_##NAME(info); }); \
  }                                                                                \
  alembic::Registrar reg_##NAME(#NAME, op_##NAME);                                 \
  Napi::Value op_body_##NAME(const Napi::CallbackInfo& info)

#define ENV info.Env()
