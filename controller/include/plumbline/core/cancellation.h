// plumbline/core/cancellation.h — a stop request shared across threads: Kubernetes API calls
// (watches included) and Git fetches in flight end early when it fires.
//
//   Cancellation cancel;
//   std::thread t([&] { client.watch(resource, ns, options, on_event, cancel); });
//   cancel.cancel();  // from any thread; every copy sees it
#pragma once

#include <memory>

namespace plumbline {

// Cancels in-flight calls — watches included — from another thread. Copies share the state.
class Cancellation {
 public:
  Cancellation();
  void cancel() const;
  bool cancelled() const;
  struct State;
  const std::shared_ptr<State>& state() const { return state_; }

 private:
  std::shared_ptr<State> state_;
};

}  // namespace plumbline
