// Bindings for PyTorch's own distributed layer (c10d): the TCPStore rendezvous, the Gloo process group
// (CPU collectives; libtorch builds with CUDA add NCCL behind the same ProcessGroup API) and its Work
// handles. Kept thin on purpose: gradient buckets, the torchrun env contract and the trainer's use of all
// this live in TypeScript (src/engine/distributed.ts).
//
// Stores, process groups and pending works are held in small id tables here; JavaScript holds the ids.
// Every wait has a timeout, so a peer that died becomes an error instead of a hang.
//
// Compiled only where the Gloo headers are installed (Debian: libgloo-dev), signalled by
// ALEMBIC_WITH_GLOO from scripts/libtorch-paths.cjs. Without them only `distAvailable` exists, returning
// false, and the TypeScript layer says this libtorch build has no Gloo.

#include "addon.h"

#ifdef ALEMBIC_WITH_GLOO
#include <torch/csrc/distributed/c10d/FileStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <chrono>
#include <cstdlib>
#include <map>
#endif

namespace {
using namespace alembic;

#ifndef ALEMBIC_WITH_GLOO

OP(distAvailable) { return Napi::Boolean::New(ENV, false); }

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

// closeGroup(group) / closeStore(store): drop the objects (the last reference closes sockets and threads).
OP(closeGroup) { return Napi::Boolean::New(ENV, g_groups.items.erase(static_cast<int>(I(info, 0))) > 0); }
OP(closeStore) { return Napi::Boolean::New(ENV, g_stores.items.erase(static_cast<int>(I(info, 0))) > 0); }

#endif

}  // namespace
