// alembic's native engine: a thin N-API layer over libtorch.
//
// Tensors live in a handle table on this side; JavaScript holds plain numbers (handles). A handle packs
// a slot index and the slot's generation, so a stale handle (already disposed, slot reused) is detected
// instead of silently touching another tensor. Everything beyond tensors, ops, autograd, optimizer steps
// and raw byte access lives in TypeScript.
//
// Every binding runs inside `guarded`, which turns libtorch and std exceptions into JS Errors that name
// the op and the shapes of the tensors it was given — never an abort.

#include "addon.h"

#include <cmath>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

namespace alembic {
namespace {

// ---------------------------------------------------------------- handle table

struct Slot {
  at::Tensor tensor;
  uint32_t generation = 0;
  bool live = false;
};

std::vector<Slot> g_slots;
std::vector<uint32_t> g_free;
size_t g_live = 0;
constexpr double kIndexSpan = 16777216.0;  // 2^24 slots; generation in the bits above

// Shapes of the tensors the current op has read, for error messages.
std::vector<const at::Tensor*> g_op_inputs;

double register_tensor(at::Tensor t) {
  uint32_t index;
  if (!g_free.empty()) {
    index = g_free.back();
    g_free.pop_back();
  } else {
    index = static_cast<uint32_t>(g_slots.size());
    if (index >= static_cast<uint32_t>(kIndexSpan)) throw OpError("too many live tensors (2^24)");
    g_slots.emplace_back();
  }
  Slot& s = g_slots[index];
  s.tensor = std::move(t);
  s.live = true;
  g_live++;
  return static_cast<double>(s.generation) * kIndexSpan + index;
}

Slot* find_slot(double handle) {
  if (!(handle >= 0)) return nullptr;
  uint64_t h = static_cast<uint64_t>(handle);
  uint32_t index = static_cast<uint32_t>(h % static_cast<uint64_t>(kIndexSpan));
  uint32_t generation = static_cast<uint32_t>(h / static_cast<uint64_t>(kIndexSpan));
  if (index >= g_slots.size()) return nullptr;
  Slot& s = g_slots[index];
  if (!s.live || s.generation != generation) return nullptr;
  return &s;
}

bool release(double handle) {
  Slot* s = find_slot(handle);
  if (!s) return false;
  s->tensor = at::Tensor();
  s->live = false;
  s->generation++;
  g_free.push_back(static_cast<uint32_t>(s - g_slots.data()));
  g_live--;
  return true;
}

}  // namespace

// ---------------------------------------------------------------- argument helpers

const at::Tensor& T(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || !info[i].IsNumber()) throw OpError("argument " + std::to_string(i) + " must be a tensor");
  Slot* s = find_slot(info[i].As<Napi::Number>().DoubleValue());
  if (!s) throw OpError("argument " + std::to_string(i) + " is a disposed or unknown tensor");
  g_op_inputs.push_back(&s->tensor);
  return s->tensor;
}

// An optional tensor: -1 or undefined means "none".
c10::optional<at::Tensor> OT(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || info[i].IsUndefined() || info[i].IsNull()) return c10::nullopt;
  if (info[i].IsNumber() && info[i].As<Napi::Number>().DoubleValue() < 0) return c10::nullopt;
  return T(info, i);
}

double D(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || !info[i].IsNumber()) throw OpError("argument " + std::to_string(i) + " must be a number");
  return info[i].As<Napi::Number>().DoubleValue();
}

int64_t I(const Napi::CallbackInfo& info, size_t i) { return static_cast<int64_t>(D(info, i)); }

// A JS number as a Scalar: integral values stay integral so integer tensors keep their dtype
// (JS has no separate int type; `ids.add(1)` must stay int64).
at::Scalar SC(const Napi::CallbackInfo& info, size_t i) {
  double v = D(info, i);
  if (std::isfinite(v) && std::floor(v) == v && std::fabs(v) < 9007199254740992.0) return at::Scalar(static_cast<int64_t>(v));
  return at::Scalar(v);
}

bool B(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || !info[i].IsBoolean()) throw OpError("argument " + std::to_string(i) + " must be a boolean");
  return info[i].As<Napi::Boolean>().Value();
}

std::string S(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || !info[i].IsString()) throw OpError("argument " + std::to_string(i) + " must be a string");
  return info[i].As<Napi::String>().Utf8Value();
}

std::vector<int64_t> IL(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || !info[i].IsArray()) throw OpError("argument " + std::to_string(i) + " must be an int array");
  Napi::Array a = info[i].As<Napi::Array>();
  std::vector<int64_t> out(a.Length());
  for (uint32_t k = 0; k < a.Length(); k++) out[k] = static_cast<int64_t>(a.Get(k).As<Napi::Number>().DoubleValue());
  return out;
}

std::vector<at::Tensor> TL(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || !info[i].IsArray()) throw OpError("argument " + std::to_string(i) + " must be a tensor array");
  Napi::Array a = info[i].As<Napi::Array>();
  std::vector<at::Tensor> out;
  out.reserve(a.Length());
  for (uint32_t k = 0; k < a.Length(); k++) {
    Slot* s = find_slot(a.Get(k).As<Napi::Number>().DoubleValue());
    if (!s) throw OpError("tensor array element " + std::to_string(k) + " is disposed or unknown");
    g_op_inputs.push_back(&s->tensor);
    out.push_back(s->tensor);
  }
  return out;
}

at::ScalarType parse_dtype(const std::string& name) {
  if (name == "float32") return at::kFloat;
  if (name == "float64") return at::kDouble;
  if (name == "int64") return at::kLong;
  if (name == "int32") return at::kInt;
  if (name == "bool") return at::kBool;
  if (name == "uint8") return at::kByte;
  if (name == "int8") return at::kChar;
  if (name == "float16") return at::kHalf;
  if (name == "bfloat16") return at::kBFloat16;
  throw OpError("unknown dtype '" + name + "'");
}

const char* dtype_name(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return "float32";
    case at::kDouble: return "float64";
    case at::kLong: return "int64";
    case at::kInt: return "int32";
    case at::kBool: return "bool";
    case at::kByte: return "uint8";
    case at::kChar: return "int8";
    case at::kHalf: return "float16";
    case at::kBFloat16: return "bfloat16";
    default: return "unsupported";
  }
}

at::Reduction::Reduction parse_reduction(const std::string& r) {
  if (r == "mean") return at::Reduction::Mean;
  if (r == "sum") return at::Reduction::Sum;
  if (r == "none") return at::Reduction::None;
  throw OpError("unknown reduction '" + r + "' (mean, sum or none)");
}

Napi::Value R(Napi::Env env, at::Tensor t) { return Napi::Number::New(env, register_tensor(std::move(t))); }

Napi::Value RL(Napi::Env env, const std::vector<at::Tensor>& ts) {
  Napi::Array a = Napi::Array::New(env, ts.size());
  for (size_t k = 0; k < ts.size(); k++) a.Set(static_cast<uint32_t>(k), R(env, ts[k]));
  return a;
}

std::string describe_inputs() {
  std::ostringstream os;
  for (size_t k = 0; k < g_op_inputs.size(); k++) {
    const at::Tensor* t = g_op_inputs[k];
    if (k) os << ", ";
    if (!t->defined()) {
      os << "undefined";
      continue;
    }
    os << dtype_name(t->scalar_type()) << "[";
    for (int64_t d = 0; d < t->dim(); d++) os << (d ? ", " : "") << t->size(d);
    os << "]";
  }
  return os.str();
}

void begin_op() { g_op_inputs.clear(); }

void throw_op_error(const char* name, const Napi::CallbackInfo& info, std::string message) {
  // libtorch messages can carry multi-line context; the first line says what went wrong.
  auto nl = message.find('\n');
  if (nl != std::string::npos) message = message.substr(0, nl);
  std::string full = std::string(name) + "(" + describe_inputs() + "): " + message;
  throw Napi::Error::New(info.Env(), full);
}

std::vector<Entry>& registry() {
  static std::vector<Entry> r;
  return r;
}

}  // namespace alembic

namespace {
using namespace alembic;

// ---------------------------------------------------------------- lifecycle and inspection

OP(dispose) { return Napi::Boolean::New(ENV, release(D(info, 0))); }
OP(liveCount) { return Napi::Number::New(ENV, static_cast<double>(g_live)); }
OP(isLive) { return Napi::Boolean::New(ENV, find_slot(D(info, 0)) != nullptr); }

OP(shape) {
  const at::Tensor& t = T(info, 0);
  Napi::Array a = Napi::Array::New(ENV, t.dim());
  for (int64_t d = 0; d < t.dim(); d++) a.Set(static_cast<uint32_t>(d), Napi::Number::New(ENV, t.size(d)));
  return a;
}
OP(dtype) { return Napi::String::New(ENV, dtype_name(T(info, 0).scalar_type())); }
OP(numel) { return Napi::Number::New(ENV, static_cast<double>(T(info, 0).numel())); }
OP(item) {
  const at::Tensor& t = T(info, 0);
  if (t.numel() != 1) throw OpError("item() needs a tensor with one element, got " + std::to_string(t.numel()));
  return Napi::Number::New(ENV, t.item<double>());
}

// ---------------------------------------------------------------- creation and raw bytes

// fromBytes(bytes: Uint8Array, shape, dtype): copies the little-endian bytes into a new tensor.
OP(fromBytes) {
  if (!info[0].IsTypedArray()) throw OpError("argument 0 must be a typed array");
  Napi::TypedArray arr = info[0].As<Napi::TypedArray>();
  auto shape = IL(info, 1);
  auto dtype = parse_dtype(S(info, 2));
  uint8_t* data = static_cast<uint8_t*>(arr.ArrayBuffer().Data()) + arr.ByteOffset();
  size_t bytes = arr.ByteLength();
  int64_t n = 1;
  for (auto d : shape) {
    if (d < 0) throw OpError("negative dimension in shape");
    n *= d;
  }
  size_t need = static_cast<size_t>(n) * c10::elementSize(dtype);
  if (need != bytes)
    throw OpError("shape needs " + std::to_string(need) + " bytes of " + dtype_name(dtype) + " but got " +
                  std::to_string(bytes));
  at::Tensor t = at::empty(shape, at::TensorOptions().dtype(dtype));
  if (bytes) std::memcpy(t.data_ptr(), data, bytes);
  return R(ENV, t);
}

// toBytes(t): a copy of the tensor's contiguous little-endian bytes.
OP(toBytes) {
  at::Tensor t = T(info, 0).detach().contiguous();
  size_t bytes = t.numel() * t.element_size();
  Napi::ArrayBuffer buf = Napi::ArrayBuffer::New(ENV, bytes);
  if (bytes) std::memcpy(buf.Data(), t.data_ptr(), bytes);
  return Napi::Uint8Array::New(ENV, bytes, buf, 0);
}

OP(zeros) { return R(ENV, at::zeros(IL(info, 0), at::TensorOptions().dtype(parse_dtype(S(info, 1))))); }
OP(ones) { return R(ENV, at::ones(IL(info, 0), at::TensorOptions().dtype(parse_dtype(S(info, 1))))); }
OP(full) { return R(ENV, at::full(IL(info, 0), SC(info, 1), at::TensorOptions().dtype(parse_dtype(S(info, 2))))); }
OP(randn) { return R(ENV, at::randn(IL(info, 0), at::TensorOptions().dtype(parse_dtype(S(info, 1))))); }
OP(rand) { return R(ENV, at::rand(IL(info, 0), at::TensorOptions().dtype(parse_dtype(S(info, 1))))); }
OP(randint) { return R(ENV, at::randint(I(info, 0), I(info, 1), IL(info, 2), at::TensorOptions().dtype(at::kLong))); }
OP(randperm) { return R(ENV, at::randperm(I(info, 0), at::TensorOptions().dtype(at::kLong))); }
OP(arange) {
  return R(ENV, at::arange(D(info, 0), D(info, 1), D(info, 2), at::TensorOptions().dtype(parse_dtype(S(info, 3)))));
}
OP(eye) { return R(ENV, at::eye(I(info, 0), at::TensorOptions().dtype(parse_dtype(S(info, 1))))); }
// The CPU generator's state as a uint8 tensor, so a resumed run draws the same dropout masks.
OP(getRngState) { return R(ENV, at::detail::getDefaultCPUGenerator().get_state()); }
OP(setRngState) {
  at::Generator gen = at::detail::getDefaultCPUGenerator();
  gen.set_state(T(info, 0));
  return ENV.Undefined();
}
OP(manualSeed) {
  at::manual_seed(static_cast<uint64_t>(D(info, 0)));
  return ENV.Undefined();
}

// ---------------------------------------------------------------- shape ops

OP(reshape) { return R(ENV, T(info, 0).reshape(IL(info, 1))); }
OP(view) { return R(ENV, T(info, 0).view(IL(info, 1))); }
OP(permute) { return R(ENV, T(info, 0).permute(IL(info, 1))); }
OP(transpose) { return R(ENV, T(info, 0).transpose(I(info, 1), I(info, 2))); }
OP(contiguous) { return R(ENV, T(info, 0).contiguous()); }
OP(expand) { return R(ENV, T(info, 0).expand(IL(info, 1))); }
OP(squeeze) { return R(ENV, T(info, 0).squeeze(I(info, 1))); }
OP(unsqueeze) { return R(ENV, T(info, 0).unsqueeze(I(info, 1))); }
OP(flatten) { return R(ENV, T(info, 0).flatten(I(info, 1), I(info, 2))); }
OP(repeat) { return R(ENV, T(info, 0).repeat(IL(info, 1))); }
OP(cat) { return R(ENV, at::cat(TL(info, 0), I(info, 1))); }
OP(stack) { return R(ENV, at::stack(TL(info, 0), I(info, 1))); }
OP(slice) { return R(ENV, T(info, 0).slice(I(info, 1), I(info, 2), I(info, 3), I(info, 4))); }
OP(select) { return R(ENV, T(info, 0).select(I(info, 1), I(info, 2))); }
OP(indexSelect) { return R(ENV, T(info, 0).index_select(I(info, 1), T(info, 2))); }
OP(gather) { return R(ENV, T(info, 0).gather(I(info, 1), T(info, 2))); }
OP(scatter) { return R(ENV, T(info, 0).scatter(I(info, 1), T(info, 2), T(info, 3))); }
OP(maskedFill) { return R(ENV, T(info, 0).masked_fill(T(info, 1), SC(info, 2))); }
OP(where) { return R(ENV, at::where(T(info, 0), T(info, 1), T(info, 2))); }
OP(chunk) { return RL(ENV, T(info, 0).chunk(I(info, 1), I(info, 2))); }
OP(split) { return RL(ENV, T(info, 0).split_with_sizes(IL(info, 1), I(info, 2))); }
OP(tril) { return R(ENV, T(info, 0).tril(I(info, 1))); }
OP(triu) { return R(ENV, T(info, 0).triu(I(info, 1))); }
OP(flip) { return R(ENV, T(info, 0).flip(IL(info, 1))); }
OP(clone) { return R(ENV, T(info, 0).clone()); }
OP(detach) { return R(ENV, T(info, 0).detach()); }
OP(to) { return R(ENV, T(info, 0).to(parse_dtype(S(info, 1)))); }
// indexPut(t, index, values): t[index] = values along dim 0, returns a new tensor (autograd-friendly).
OP(indexPut) { return R(ENV, T(info, 0).index_put({T(info, 1)}, T(info, 2))); }
OP(indexAdd) { return R(ENV, T(info, 0).index_add(I(info, 1), T(info, 2), T(info, 3))); }

// ---------------------------------------------------------------- elementwise math

OP(add) { return R(ENV, at::add(T(info, 0), T(info, 1), SC(info, 2))); }
OP(sub) { return R(ENV, at::sub(T(info, 0), T(info, 1), SC(info, 2))); }
OP(mul) { return R(ENV, at::mul(T(info, 0), T(info, 1))); }
OP(div) { return R(ENV, at::div(T(info, 0), T(info, 1))); }
OP(addScalar) { return R(ENV, at::add(T(info, 0), SC(info, 1))); }
OP(mulScalar) { return R(ENV, at::mul(T(info, 0), SC(info, 1))); }
OP(divScalar) { return R(ENV, at::div(T(info, 0), SC(info, 1))); }
OP(rsubScalar) { return R(ENV, at::rsub(T(info, 0), SC(info, 1))); }
OP(powScalar) { return R(ENV, at::pow(T(info, 0), SC(info, 1))); }
OP(pow) { return R(ENV, at::pow(T(info, 0), T(info, 1))); }
OP(maximum) { return R(ENV, at::maximum(T(info, 0), T(info, 1))); }
OP(minimum) { return R(ENV, at::minimum(T(info, 0), T(info, 1))); }
OP(neg) { return R(ENV, at::neg(T(info, 0))); }
OP(exp) { return R(ENV, at::exp(T(info, 0))); }
OP(log) { return R(ENV, at::log(T(info, 0))); }
OP(log1p) { return R(ENV, at::log1p(T(info, 0))); }
OP(sqrt) { return R(ENV, at::sqrt(T(info, 0))); }
OP(rsqrt) { return R(ENV, at::rsqrt(T(info, 0))); }
OP(abs) { return R(ENV, at::abs(T(info, 0))); }
OP(sign) { return R(ENV, at::sign(T(info, 0))); }
OP(tanh) { return R(ENV, at::tanh(T(info, 0))); }
OP(sigmoid) { return R(ENV, at::sigmoid(T(info, 0))); }
OP(relu) { return R(ENV, at::relu(T(info, 0))); }
OP(gelu) { return R(ENV, at::gelu(T(info, 0), S(info, 1))); }
OP(clamp) {
  c10::optional<at::Scalar> lo, hi;
  if (info[1].IsNumber()) lo = SC(info, 1);
  if (info[2].IsNumber()) hi = SC(info, 2);
  return R(ENV, at::clamp(T(info, 0), lo, hi));
}
OP(compare) {
  const std::string op = S(info, 2);
  const at::Tensor& a = T(info, 0);
  const at::Tensor& b = T(info, 1);
  if (op == "eq") return R(ENV, a.eq(b));
  if (op == "ne") return R(ENV, a.ne(b));
  if (op == "gt") return R(ENV, a.gt(b));
  if (op == "ge") return R(ENV, a.ge(b));
  if (op == "lt") return R(ENV, a.lt(b));
  if (op == "le") return R(ENV, a.le(b));
  throw OpError("unknown comparison '" + op + "'");
}
OP(compareScalar) {
  const std::string op = S(info, 2);
  const at::Tensor& a = T(info, 0);
  at::Scalar b = SC(info, 1);
  if (op == "eq") return R(ENV, a.eq(b));
  if (op == "ne") return R(ENV, a.ne(b));
  if (op == "gt") return R(ENV, a.gt(b));
  if (op == "ge") return R(ENV, a.ge(b));
  if (op == "lt") return R(ENV, a.lt(b));
  if (op == "le") return R(ENV, a.le(b));
  throw OpError("unknown comparison '" + op + "'");
}
OP(logicalNot) { return R(ENV, at::logical_not(T(info, 0))); }
OP(logicalAnd) { return R(ENV, at::logical_and(T(info, 0), T(info, 1))); }
OP(logicalOr) { return R(ENV, at::logical_or(T(info, 0), T(info, 1))); }

// ---------------------------------------------------------------- reductions

OP(sum) { return R(ENV, at::sum(T(info, 0), IL(info, 1), B(info, 2))); }
OP(sumAll) { return R(ENV, at::sum(T(info, 0))); }
OP(mean) { return R(ENV, at::mean(T(info, 0), IL(info, 1), B(info, 2))); }
OP(meanAll) { return R(ENV, at::mean(T(info, 0))); }
OP(max) {
  auto r = at::max(T(info, 0), I(info, 1), B(info, 2));
  return RL(ENV, {std::get<0>(r), std::get<1>(r)});
}
OP(min) {
  auto r = at::min(T(info, 0), I(info, 1), B(info, 2));
  return RL(ENV, {std::get<0>(r), std::get<1>(r)});
}
OP(maxAll) { return R(ENV, at::max(T(info, 0))); }
OP(minAll) { return R(ENV, at::min(T(info, 0))); }
OP(argmax) { return R(ENV, at::argmax(T(info, 0), I(info, 1), B(info, 2))); }
OP(topk) {
  auto r = at::topk(T(info, 0), I(info, 1), I(info, 2), B(info, 3), true);
  return RL(ENV, {std::get<0>(r), std::get<1>(r)});
}
OP(sort) {
  auto r = at::sort(T(info, 0), I(info, 1), B(info, 2));
  return RL(ENV, {std::get<0>(r), std::get<1>(r)});
}
OP(cumsum) { return R(ENV, at::cumsum(T(info, 0), I(info, 1))); }
OP(logsumexp) { return R(ENV, at::logsumexp(T(info, 0), IL(info, 1), B(info, 2))); }
OP(norm) { return R(ENV, at::norm(T(info, 0), D(info, 1), IL(info, 2), B(info, 3))); }
OP(variance) { return R(ENV, at::var(T(info, 0), IL(info, 1), B(info, 2), B(info, 3))); }

// ---------------------------------------------------------------- linear algebra

OP(matmul) { return R(ENV, at::matmul(T(info, 0), T(info, 1))); }
OP(bmm) { return R(ENV, at::bmm(T(info, 0), T(info, 1))); }
OP(linear) { return R(ENV, at::linear(T(info, 0), T(info, 1), OT(info, 2))); }

// ---------------------------------------------------------------- neural network functionals

OP(softmax) { return R(ENV, at::softmax(T(info, 0), I(info, 1))); }
OP(logSoftmax) { return R(ENV, at::log_softmax(T(info, 0), I(info, 1))); }
OP(embedding) { return R(ENV, at::embedding(T(info, 0), T(info, 1), I(info, 2), false, false)); }
OP(conv1d) {
  return R(ENV, at::conv1d(T(info, 0), T(info, 1), OT(info, 2), {I(info, 3)}, {I(info, 4)}, {I(info, 5)}, I(info, 6)));
}
OP(maxPool1d) { return R(ENV, at::max_pool1d(T(info, 0), {I(info, 1)}, {I(info, 2)}, {I(info, 3)})); }
OP(avgPool1d) { return R(ENV, at::avg_pool1d(T(info, 0), {I(info, 1)}, {I(info, 2)}, {I(info, 3)})); }
OP(dropout) { return R(ENV, at::dropout(T(info, 0), D(info, 1), B(info, 2))); }
OP(layerNorm) { return R(ENV, at::layer_norm(T(info, 0), IL(info, 1), OT(info, 2), OT(info, 3), D(info, 4))); }

// rnn(mode, x[B,T,F] batch-first, lengths int64[B] or -1, params, numLayers, dropout, train, bidirectional)
// → [output[B,T,dirs*H], h_n[layers*dirs,B,H], (c_n for lstm)]. With lengths, the sequences are packed so
// padding never enters the recurrence and outputs past each length are zero (as PyTorch's packed RNNs).
OP(rnn) {
  const std::string mode = S(info, 0);
  const at::Tensor& x = T(info, 1);
  c10::optional<at::Tensor> lengths = OT(info, 2);
  std::vector<at::Tensor> params = TL(info, 3);
  int64_t layers = I(info, 4);
  double dropout = D(info, 5);
  bool train = B(info, 6);
  bool bidirectional = B(info, 7);
  if (mode != "lstm" && mode != "gru") throw OpError("mode must be lstm or gru");
  if (x.dim() != 3) throw OpError("input must be [batch, time, features]");
  const int64_t dirs = bidirectional ? 2 : 1;
  const int64_t hidden = params.at(1).size(1);  // w_hh: [gates*H, H]
  at::Tensor h0 = at::zeros({layers * dirs, x.size(0), hidden}, x.options());
  if (!lengths) {
    if (mode == "lstm") {
      auto r = at::lstm(x, {h0, h0}, params, true, layers, dropout, train, bidirectional, true);
      return RL(ENV, {std::get<0>(r), std::get<1>(r), std::get<2>(r)});
    }
    auto r = at::gru(x, h0, params, true, layers, dropout, train, bidirectional, true);
    return RL(ENV, {std::get<0>(r), std::get<1>(r)});
  }
  auto packed = torch::nn::utils::rnn::pack_padded_sequence(x, lengths->to(at::kLong).cpu(), true, false);
  const at::Tensor& unsorted = packed.unsorted_indices();
  auto unpack = [&](const at::Tensor& data) {
    torch::nn::utils::rnn::PackedSequence p(data, packed.batch_sizes(), packed.sorted_indices(), unsorted);
    return std::get<0>(torch::nn::utils::rnn::pad_packed_sequence(p, true, 0.0, x.size(1)));
  };
  if (mode == "lstm") {
    auto r = at::lstm(packed.data(), packed.batch_sizes(), {h0, h0}, params, true, layers, dropout, train, bidirectional);
    return RL(ENV, {unpack(std::get<0>(r)), std::get<1>(r).index_select(1, unsorted),
                    std::get<2>(r).index_select(1, unsorted)});
  }
  auto r = at::gru(packed.data(), packed.batch_sizes(), h0, params, true, layers, dropout, train, bidirectional);
  return RL(ENV, {unpack(std::get<0>(r)), std::get<1>(r).index_select(1, unsorted)});
}

// ---------------------------------------------------------------- losses

// crossEntropy(logits[N,C] or [N,C,...], target int64, weight|-1, reduction, ignoreIndex, labelSmoothing)
OP(crossEntropy) {
  return R(ENV, at::cross_entropy_loss(T(info, 0), T(info, 1), OT(info, 2), parse_reduction(S(info, 3)), I(info, 4),
                                       D(info, 5)));
}
OP(nllLoss) {
  return R(ENV, at::nll_loss(T(info, 0), T(info, 1), OT(info, 2), parse_reduction(S(info, 3)), I(info, 4)));
}
OP(bceWithLogits) {
  return R(ENV, at::binary_cross_entropy_with_logits(T(info, 0), T(info, 1), OT(info, 2), OT(info, 3),
                                                     parse_reduction(S(info, 4))));
}
// klDiv(input as log-probabilities, target, reduction, logTarget); "batchmean" is handled in TypeScript.
OP(klDiv) { return R(ENV, at::kl_div(T(info, 0), T(info, 1), parse_reduction(S(info, 2)), B(info, 3))); }
OP(mseLoss) { return R(ENV, at::mse_loss(T(info, 0), T(info, 1), parse_reduction(S(info, 2)))); }
OP(marginRankingLoss) {
  return R(ENV, at::margin_ranking_loss(T(info, 0), T(info, 1), T(info, 2), D(info, 3), parse_reduction(S(info, 4))));
}

// ---------------------------------------------------------------- autograd

OP(setRequiresGrad) {
  const at::Tensor& t = T(info, 0);
  const_cast<at::Tensor&>(t).requires_grad_(B(info, 1));
  return ENV.Undefined();
}
OP(requiresGrad) { return Napi::Boolean::New(ENV, T(info, 0).requires_grad()); }
OP(backward) {
  const at::Tensor& t = T(info, 0);
  c10::optional<at::Tensor> g = OT(info, 1);
  t.backward(g ? *g : at::Tensor(), /*retain_graph=*/c10::nullopt, /*create_graph=*/false);
  return ENV.Undefined();
}
// grad(t): a handle to t's gradient, or -1 when there is none.
OP(grad) {
  const at::Tensor& g = T(info, 0).grad();
  if (!g.defined()) return Napi::Number::New(ENV, -1);
  return R(ENV, g);
}
// setGrad(t, g): makes g (same shape) t's gradient, for a parameter this process left without one.
OP(setGrad) {
  const_cast<at::Tensor&>(T(info, 0)).mutable_grad() = T(info, 1);
  return ENV.Undefined();
}
OP(zeroGrad) {
  for (auto& p : TL(info, 0)) {
    if (p.grad().defined()) const_cast<at::Tensor&>(p).mutable_grad().reset();
  }
  return ENV.Undefined();
}
OP(setGradEnabled) {
  c10::GradMode::set_enabled(B(info, 0));
  return ENV.Undefined();
}
OP(isGradEnabled) { return Napi::Boolean::New(ENV, c10::GradMode::is_enabled()); }

// ---------------------------------------------------------------- in-place updates (never recorded by autograd)

OP(copy_) {
  at::NoGradGuard ng;
  const_cast<at::Tensor&>(T(info, 0)).copy_(T(info, 1));
  return ENV.Undefined();
}
OP(fill_) {
  at::NoGradGuard ng;
  const_cast<at::Tensor&>(T(info, 0)).fill_(SC(info, 1));
  return ENV.Undefined();
}
OP(uniform_) {
  at::NoGradGuard ng;
  const_cast<at::Tensor&>(T(info, 0)).uniform_(D(info, 1), D(info, 2));
  return ENV.Undefined();
}
OP(normal_) {
  at::NoGradGuard ng;
  const_cast<at::Tensor&>(T(info, 0)).normal_(D(info, 1), D(info, 2));
  return ENV.Undefined();
}

// ---------------------------------------------------------------- optimizers (one call per step, loop in C++)

// adamw(params, expAvg, expAvgSq, weightDecays: number[], step, lr, beta1, beta2, eps, rowWise: boolean[])
// Decoupled weight decay as in Loshchilov & Hutter and torch.optim.AdamW; bias-corrected moments.
// A row-wise table (an embedding whose batch reads a few of its rows) is stepped as LazyAdam does: only the
// rows with a nonzero gradient are read and written (their decay, moments and weights); the others keep
// their moments and weights unchanged, where dense AdamW would decay their moments and keep moving them.
OP(adamw) {
  auto params = TL(info, 0);
  auto m = TL(info, 1);
  auto v = TL(info, 2);
  Napi::Array wd = info[3].As<Napi::Array>();
  double step = D(info, 4), lr = D(info, 5), b1 = D(info, 6), b2 = D(info, 7), eps = D(info, 8);
  Napi::Array row_wise = info[9].As<Napi::Array>();
  if (m.size() != params.size() || v.size() != params.size() || wd.Length() != params.size() ||
      row_wise.Length() != params.size())
    throw OpError("optimizer state does not match the parameter list");
  at::NoGradGuard ng;
  const double bc1 = 1 - std::pow(b1, step);
  const double bc2_sqrt = std::sqrt(1 - std::pow(b2, step));
  auto update = [&](at::Tensor& p, const at::Tensor& g, at::Tensor& mi, at::Tensor& vi, double decay) {
    if (decay != 0) p.mul_(1 - lr * decay);
    mi.mul_(b1).add_(g, 1 - b1);
    vi.mul_(b2).addcmul_(g, g, 1 - b2);
    at::Tensor denom = (vi.sqrt() / bc2_sqrt).add_(eps);
    p.addcdiv_(mi, denom, -lr / bc1);
  };
  for (size_t i = 0; i < params.size(); i++) {
    at::Tensor& p = params[i];
    const at::Tensor& g = p.grad();
    if (!g.defined()) continue;
    double decay = wd.Get(static_cast<uint32_t>(i)).As<Napi::Number>().DoubleValue();
    if (!row_wise.Get(static_cast<uint32_t>(i)).As<Napi::Boolean>().Value() || p.dim() != 2) {
      update(p, g, m[i], v[i], decay);
      continue;
    }
    at::Tensor rows = g.ne(0).any(1).nonzero().squeeze(1);
    at::Tensor pr = p.index_select(0, rows), mr = m[i].index_select(0, rows), vr = v[i].index_select(0, rows);
    update(pr, g.index_select(0, rows), mr, vr, decay);
    p.index_copy_(0, rows, pr);
    m[i].index_copy_(0, rows, mr);
    v[i].index_copy_(0, rows, vr);
  }
  return ENV.Undefined();
}

// sgd(params, momentumBuffers (may be empty), weightDecay, lr, momentum, nesterov)
OP(sgd) {
  auto params = TL(info, 0);
  auto bufs = TL(info, 1);
  double wd = D(info, 2), lr = D(info, 3), momentum = D(info, 4);
  bool nesterov = B(info, 5);
  if (momentum != 0 && bufs.size() != params.size()) throw OpError("momentum buffers do not match the parameter list");
  at::NoGradGuard ng;
  for (size_t i = 0; i < params.size(); i++) {
    at::Tensor& p = params[i];
    if (!p.grad().defined()) continue;
    at::Tensor d = p.grad();
    if (wd != 0) d = d.add(p, wd);
    if (momentum != 0) {
      bufs[i].mul_(momentum).add_(d);
      d = nesterov ? d.add(bufs[i], momentum) : bufs[i];
    }
    p.add_(d, -lr);
  }
  return ENV.Undefined();
}

// clipGradNorm(params, maxNorm) → the total L2 norm of all gradients before clipping.
OP(clipGradNorm) {
  auto params = TL(info, 0);
  double max_norm = D(info, 1);
  at::NoGradGuard ng;
  std::vector<at::Tensor> norms;
  for (auto& p : params)
    if (p.grad().defined()) norms.push_back(p.grad().norm(2));
  if (norms.empty()) return Napi::Number::New(ENV, 0);
  double total = at::stack(norms).norm(2).item<double>();
  double coef = max_norm / (total + 1e-6);
  if (coef < 1)
    for (auto& p : params)
      if (p.grad().defined()) p.mutable_grad().mul_(coef);
  return Napi::Number::New(ENV, total);
}

// ---------------------------------------------------------------- runtime settings

OP(setNumThreads) {
  at::set_num_threads(static_cast<int>(I(info, 0)));
  return ENV.Undefined();
}
OP(getNumThreads) { return Napi::Number::New(ENV, at::get_num_threads()); }
OP(config) { return Napi::String::New(ENV, at::show_config()); }
OP(version) { return Napi::String::New(ENV, TORCH_VERSION); }

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  for (const Entry& e : registry()) exports.Set(e.name, Napi::Function::New(env, e.fn, e.name));
  return exports;
}

}  // namespace

NODE_API_MODULE(alembic_torch, Init)
