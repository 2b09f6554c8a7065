// Bindings for PyTorch's own distributed layer (c10d): the TCPStore rendezvous, the Gloo process group
// (CPU collectives; libtorch builds with CUDA add NCCL behind the same ProcessGroup API), its Work
// handles, and DistributedDataParallel's C++ half — c10d::Reducer, which all-reduces gradient buckets from
// autograd hooks while backward still runs, and c10d::Logger, which times that. Kept thin on purpose: the
// torchrun env contract, the loss weighting and the trainer's use of all this live in TypeScript
// (src/engine/distributed.ts, src/engine/ddp-reducer.ts).
//
// Stores, process groups, pending works and reducers are held in small id tables here; JavaScript holds
// the ids.
// Every wait has a timeout, so a peer that died becomes an error instead of a hang.
//
// Compiled only where the Gloo headers are installed (Debian: libgloo-dev), signalled by
// ALEMBIC_WITH_GLOO from scripts/libtorch-paths.cjs. Without them only `distAvailable` exists, returning
// false, and the TypeScript layer says this libtorch build has no Gloo. The Reducer is bound for the
// libtorch 1.x c10d API (ProcessGroupGloo is a c10d::ProcessGroup, the Reducer constructor of 1.13);
// elsewhere `reducerAvailable` is false and the TypeScript layer reduces the gradients after backward.

#include "addon.h"

#ifdef ALEMBIC_WITH_GLOO
#include <torch/csrc/distributed/c10d/FileStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>

#if TORCH_VERSION_MAJOR < 2
#define ALEMBIC_WITH_REDUCER
#include <torch/csrc/distributed/c10d/logger.hpp>
#include <torch/csrc/distributed/c10d/reducer.hpp>
#endif
#endif

namespace {
using namespace alembic;

#ifndef ALEMBIC_WITH_GLOO

OP(distAvailable) { return Napi::Boolean::New(ENV, false); }
OP(reducerAvailable) { return Napi::Boolean::New(ENV, false); }

#else

OP(distAvailable) { return Napi::Boolean::New(ENV, true); }

// An id table of one kind of c10d object.
template <typename Obj>
struct Table {
  std::map<int, c10::intrusive_ptr<Obj>> items;
  int next = 1;
  int add(c10::intrusive_ptr<Obj> o) {
    items.emplace(next, std::move(o));
    return next++;
  }
  const c10::intrusive_ptr<Obj>& get(int id, const char* what) const {
    auto it = items.find(id);
    if (it == items.end()) throw OpError(std::string("unknown or closed ") + what + " " + std::to_string(id));
    return it->second;
  }
};

Table<c10d::Store> g_stores;
Table<c10d::ProcessGroupGloo> g_groups;
Table<c10d::Work> g_works;

std::chrono::milliseconds MS(const Napi::CallbackInfo& info, size_t i) {
  double ms = D(info, i);
  if (!(ms > 0)) throw OpError("argument " + std::to_string(i) + " must be a timeout in milliseconds > 0");
  return std::chrono::milliseconds(static_cast<int64_t>(ms));
}

// Waits for a work; a failure or a timeout becomes an OpError with c10d's first line.
void wait_for(const c10::intrusive_ptr<c10d::Work>& work, std::chrono::milliseconds timeout) {
  if (!work->wait(timeout)) throw OpError("the collective did not finish within " + std::to_string(timeout.count()) + " ms");
}

Napi::Value wait_all(Napi::Env env, const std::vector<c10::intrusive_ptr<c10d::Work>>& works, std::chrono::milliseconds timeout) {
  for (const auto& w : works) wait_for(w, timeout);
  return env.Undefined();
}

// tcpStore(host, port, worldSize, isMaster, timeoutMs) → store id. The master serves the store; every rank
// (the master too) connects as a client. The constructor returns once all worldSize ranks have joined, or
// throws after the timeout.
OP(tcpStore) {
  c10d::TCPStoreOptions opts;
  int64_t port = I(info, 1);
  if (port <= 0 || port > 65535) throw OpError("port must be 1 … 65535");
  opts.port = static_cast<std::uint16_t>(port);
  opts.numWorkers = static_cast<std::size_t>(I(info, 2));
  opts.isServer = B(info, 3);
  opts.waitWorkers = true;
  opts.timeout = MS(info, 4);
  return Napi::Number::New(ENV, g_stores.add(c10::make_intrusive<c10d::TCPStore>(S(info, 0), opts)));
}

// fileStore(path, worldSize, timeoutMs) → store id: the rendezvous of ranks on one machine through a file,
// with no network listener at all (libtorch's TCPStore server listens on every interface).
OP(fileStore) {
  auto store = c10::make_intrusive<c10d::FileStore>(S(info, 0), static_cast<int>(I(info, 1)));
  store->setTimeout(MS(info, 2));
  return Napi::Number::New(ENV, g_stores.add(store));
}

// processGroupGloo(store, rank, size, timeoutMs, device) → group id. device: "interface:<name>" binds Gloo
// to a network interface, "host:<address>" to an address, "" to the default (this host's name, else loopback).
OP(processGroupGloo) {
  const auto& store = g_stores.get(static_cast<int>(I(info, 0)), "store");
  auto opts = c10d::ProcessGroupGloo::Options::create(MS(info, 3));
  std::string device = S(info, 4);
  if (device.rfind("interface:", 0) == 0)
    opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(device.substr(10)));
  else if (device.rfind("host:", 0) == 0)
    opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(device.substr(5)));
  else if (device.empty())
    opts->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
  else
    throw OpError("device must be interface:<name>, host:<address> or empty, got '" + device + "'");
  opts->threads = static_cast<int>(opts->devices.size() * 2);
  auto group = c10::make_intrusive<c10d::ProcessGroupGloo>(store, static_cast<int>(I(info, 1)), static_cast<int>(I(info, 2)), opts);
  return Napi::Number::New(ENV, g_groups.add(group));
}

// allreduceStart(group, tensor) → work id: sums the tensor over all ranks, in place, in the background.
OP(allreduceStart) {
  std::vector<at::Tensor> one{T(info, 1)};
  auto work = g_groups.get(static_cast<int>(I(info, 0)), "process group")->allreduce(one);
  return Napi::Number::New(ENV, g_works.add(work));
}

// workWait(work, timeoutMs): waits for a started work and forgets it (also when it failed).
OP(workWait) {
  int id = static_cast<int>(I(info, 0));
  auto work = g_works.get(id, "work");
  g_works.items.erase(id);
  wait_for(work, MS(info, 1));
  return ENV.Undefined();
}

// allreduce(group, tensors, timeoutMs): sums each tensor over all ranks, in place, and waits.
OP(allreduce) {
  auto& group = g_groups.get(static_cast<int>(I(info, 0)), "process group");
  std::vector<c10::intrusive_ptr<c10d::Work>> works;
  for (at::Tensor t : TL(info, 1)) {
    std::vector<at::Tensor> one{t};
    works.push_back(group->allreduce(one));
  }
  return wait_all(ENV, works, MS(info, 2));
}

// broadcast(group, tensors, root, timeoutMs): overwrites each tensor, in place, with root's copy.
OP(broadcast) {
  auto& group = g_groups.get(static_cast<int>(I(info, 0)), "process group");
  c10d::BroadcastOptions opts;
  opts.rootRank = I(info, 2);
  std::vector<c10::intrusive_ptr<c10d::Work>> works;
  for (at::Tensor t : TL(info, 1)) {
    std::vector<at::Tensor> one{t};
    works.push_back(group->broadcast(one, opts));
  }
  return wait_all(ENV, works, MS(info, 3));
}

// barrier(group, timeoutMs): returns once every rank has reached it.
OP(barrier) {
  return wait_all(ENV, {g_groups.get(static_cast<int>(I(info, 0)), "process group")->barrier()}, MS(info, 1));
}

#ifndef ALEMBIC_WITH_REDUCER

OP(reducerAvailable) { return Napi::Boolean::New(ENV, false); }

#else

OP(reducerAvailable) { return Napi::Boolean::New(ENV, true); }

// What DistributedDataParallel builds around a model: the reducer, and the logger it reports its timings to.
struct Ddp : c10::intrusive_ptr_target {
  std::shared_ptr<c10d::Reducer> reducer;
  std::shared_ptr<c10d::Logger> logger;  // declared last, so destroyed first (it holds the reducer)
};
Table<Ddp> g_reducers;

// Drops warnings: find_unused_parameters' one-time advice to turn it off (a Python DDP flag) means nothing here.
struct Silent : c10::WarningHandler {
  void process(const c10::SourceLocation&, const std::string&, const bool) override {}
};

// reducerCreate(group, params, firstBucketBytes, bucketBytes) → [reducer id, bucket count]. As DDP does:
// checks that every rank has the same parameter shapes, assigns the parameters to buckets by size (a small
// first bucket for the parameters defined first, whose gradients come last) and reduces the buckets in
// reverse order. Parameters no rank used in a step keep no gradient (find_unused_parameters); the
// reduced gradients are copied into .grad (not bucket views), so zeroing .grad to undefined stays valid.
OP(reducerCreate) {
  c10::intrusive_ptr<c10d::ProcessGroup> group = g_groups.get(static_cast<int>(I(info, 0)), "process group");
  std::vector<at::Tensor> params = TL(info, 1);
  if (params.empty()) throw OpError("no parameters to reduce");
  for (const auto& p : params)
    if (!p.requires_grad()) throw OpError("every parameter given to the reducer must require a gradient");
  const auto first = static_cast<size_t>(I(info, 2));
  const auto cap = static_cast<size_t>(I(info, 3));
  c10d::verify_params_across_processes(group, params, c10::nullopt);
  std::vector<bool> sparse(params.size(), false);
  auto assigned = c10d::compute_bucket_assignment_by_size(params, {first, cap}, sparse, {}, c10::nullopt);
  auto buckets = std::get<0>(assigned);
  auto limits = std::get<1>(assigned);
  std::reverse(buckets.begin(), buckets.end());
  std::reverse(limits.begin(), limits.end());
  const size_t count = buckets.size();
  auto ddp = c10::make_intrusive<Ddp>();
  ddp->reducer = std::make_shared<c10d::Reducer>(params, std::move(buckets), std::move(limits), group, sparse,
                                                 static_cast<int64_t>(cap), /*find_unused_parameters=*/true,
                                                 /*gradient_as_bucket_view=*/false,
                                                 std::unordered_map<size_t, std::string>{}, static_cast<int64_t>(first));
  ddp->logger = std::make_shared<c10d::Logger>(ddp->reducer);
  ddp->reducer->set_logger(ddp->logger);
  // Time every step (DDP samples the first ten, then one in a hundred).
  ddp->reducer->set_ddp_runtime_logging_sample_rate(1);
  Napi::Array out = Napi::Array::New(ENV, 2);
  out.Set(0u, Napi::Number::New(ENV, g_reducers.add(ddp)));
  out.Set(1u, Napi::Number::New(ENV, static_cast<double>(count)));
  return out;
}

// reducerPrepareForward(reducer): a step begins (what DDP's forward() does first): the logger takes the
// previous step's timings, the reducer starts timing this one.
OP(reducerPrepareForward) {
  const auto& ddp = g_reducers.get(static_cast<int>(I(info, 0)), "reducer");
  ddp->logger->set_runtime_stats_and_log();
  ddp->reducer->prepare_for_forward();
  return ENV.Undefined();
}

// reducerPrepareBackward(reducer, outputs): arms the autograd hooks for the next backward from `outputs`
// and marks the parameters outside their graph as unused. That backward then launches each bucket's
// all-reduce as soon as its gradients are ready and, at its end, waits for them and writes .grad.
OP(reducerPrepareBackward) {
  const auto& ddp = g_reducers.get(static_cast<int>(I(info, 0)), "reducer");
  Silent silent;
  c10::Warning::WarningHandlerGuard guard(&silent);
  ddp->reducer->prepare_for_backward(TL(info, 1));
  return ENV.Undefined();
}

// reducerStats(reducer) → { computeMs, commMs, overlapMs }: the logger's means, over the steps before the
// current one, of backward's computation, of the gradient all-reduce (first launch to last completion), and
// of the part of the all-reduce that ran while backward was still computing.
OP(reducerStats) {
  const auto& ddp = g_reducers.get(static_cast<int>(I(info, 0)), "reducer");
  auto data = ddp->logger->get_ddp_logging_data();
  auto ms = [&](const char* key) {
    auto it = data.ints_map.find(key);
    return it == data.ints_map.end() ? 0.0 : static_cast<double>(it->second) / 1e6;
  };
  Napi::Object out = Napi::Object::New(ENV);
  out.Set("computeMs", ms("avg_backward_compute_time"));
  out.Set("commMs", ms("avg_backward_comm_time"));
  out.Set("overlapMs", ms("avg_backward_compute_comm_overlap_time"));
  return out;
}

OP(reducerClose) { return Napi::Boolean::New(ENV, g_reducers.items.erase(static_cast<int>(I(info, 0))) > 0); }

#endif

// closeGroup(group) / closeStore(store): drop the objects (the last reference closes sockets and threads).
OP(closeGroup) { return Napi::Boolean::New(ENV, g_groups.items.erase(static_cast<int>(I(info, 0))) > 0); }
OP(closeStore) { return Napi::Boolean::New(ENV, g_stores.items.erase(static_cast<int>(I(info, 0))) > 0); }

#endif

}  // namespace
