#!/usr/bin/env bash
# Makes the demo pull request: a Git repository at DIR with the demo's manifests and policies
# on `main`, and a branch `pr` whose one commit changes prod's checkout — the memory limit to
# 2Gi (which the live snapshot shows someone already set by hand with kubectl edit),
# GOMAXPROCS to 4 (above its 2-CPU limit: a policy violation) and a new NEW_CHECKOUT_FLOW
# variable that staging does not have (a difference between the environments).
#
#   demo_pr_repo.sh SOURCE_DIR DIR
set -euo pipefail
src=$1
dir=$2
mkdir -p "${dir}"
cd "${dir}"
git init -q -b main
git config user.email plumbline@example.test
git config user.name plumbline
git config commit.gpgsign false
cp -R "${src}/manifests" "${src}/policies" .
git add -A
GIT_COMMITTER_DATE=2026-12-01T10:00:00Z git commit -q --date 2026-12-01T10:00:00Z \
  -m "The shop: base, dev, staging and prod"
git checkout -q -b pr
cat >manifests/envs/prod/checkout-resources.yaml <<'YAML'
# prod: 2 CPUs and 2 GiB per checkout pod; the Go runtime is told the same.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: checkout
spec:
  template:
    spec:
      containers:
      - name: app
        env:
        - name: GOMAXPROCS
          value: "4"
        - name: GOMEMLIMIT
          value: 900MiB
        - name: NEW_CHECKOUT_FLOW
          value: "on"
        resources:
          requests:
            cpu: "1"
            memory: 1Gi
          limits:
            cpu: "2"
            memory: 2Gi
YAML
git add -A
GIT_COMMITTER_DATE=2026-12-01T11:00:00Z git commit -q --date 2026-12-01T11:00:00Z \
  -m "prod: checkout gets 2Gi, GOMAXPROCS 4 and the new checkout flow"
git checkout -q main
