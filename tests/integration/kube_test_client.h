// A KubeClient for the test apiserver's kubeconfig (integration tests).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

#include "plumbline/kube/kube_client.h"
#include "plumbline/kube/kube_config.h"

namespace plumbline::testing {

inline std::unique_ptr<KubeClient> ClientFor(const std::string& kubeconfig,
                                             std::chrono::seconds timeout) {
  auto config = load_kube_config({.kubeconfig = kubeconfig}, process_environment());
  EXPECT_TRUE(config.ok()) << config.error().to_string();
  if (!config.ok()) return nullptr;
  KubeClientOptions options;
  options.timeout = timeout;
  auto client = make_kube_client(*config, options);
  EXPECT_TRUE(client.ok()) << client.error().to_string();
  return client.ok() ? std::move(*client) : nullptr;
}

}  // namespace plumbline::testing
