#include "plumbline/core/cancellation.h"

#include <atomic>

namespace plumbline {

struct Cancellation::State {
  std::atomic<bool> cancelled{false};
};

Cancellation::Cancellation() : state_(std::make_shared<State>()) {}
void Cancellation::cancel() const { state_->cancelled.store(true); }
bool Cancellation::cancelled() const { return state_->cancelled.load(); }

}  // namespace plumbline
