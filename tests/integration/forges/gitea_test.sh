#!/usr/bin/env bash
# `plumbline pr-comment` against a real Gitea 1.26.4 (tests/kube-testenv/build gitea): a
# repository with the demo pull request pushed to it, a comment posted, found again by its
# marker and updated in place (same id, still one comment) after another push, left alone
# when nothing changed; a wrong token (401) and a wrong PR (404) fail with the URL and never
# the token.
#
#   gitea_test.sh PLUMBLINE_BINARY SOURCE_DIR
set -euo pipefail
plumbline=$1
src=$2
fail() { echo "FAIL: $*" >&2; [[ -f ${work:-}/gitea.log ]] && tail -20 "${work}/gitea.log" >&2; exit 1; }
start=${SECONDS}
work=$(mktemp -d "${TMPDIR:-/tmp}/plumbline-gitea-test.XXXXXX")
gitea_pid=""
cleanup() {
  if [[ -n ${gitea_pid} ]]; then kill "${gitea_pid}" 2>/dev/null || true; wait "${gitea_pid}" 2>/dev/null || true; fi
  rm -rf -- "${work}"
}
trap cleanup EXIT
# The Gitea every forge test shares (start_gitea.sh): port and token in files once set up.
"${src}/tests/integration/forges/start_gitea.sh" "${src}" "${work}" >"${work}/gitea.log" 2>&1 &
gitea_pid=$!
for _ in $(seq 1 3000); do
  [[ -s ${work}/port ]] && break
  kill -0 "${gitea_pid}" 2>/dev/null || fail "gitea did not start: $(tail -5 "${work}/gitea.log")"
  sleep 0.2
done
port=$(cat "${work}/port")
token=$(cat "${work}/token")
api=http://127.0.0.1:${port}/api/v1
for _ in $(seq 1 100); do
  curl -sf "${api}/version" >/dev/null && break
  sleep 0.1
done
curl -sf "${api}/version" >/dev/null || fail "gitea did not start"
ready=$((SECONDS - start))

call() { # METHOD PATH [JSON]
  curl -sS -f -X "$1" -H "Authorization: token ${token}" -H "Content-Type: application/json" \
    ${3:+-d "$3"} "${api}$2"
}
call POST /user/repos '{"name": "ops", "default_branch": "main", "private": false}' >/dev/null
"${src}/tests/integration/forges/demo_pr_repo.sh" "${src}" "${work}/demo"
git -C "${work}/demo" push -q "http://plumb:${token}@127.0.0.1:${port}/plumb/ops.git" main pr 2>"${work}/push.log" \
  || fail "git push: $(cat "${work}/push.log")"
# Gitea records pushed branches asynchronously: a pull request can be opened once it has.
pr=""
for _ in $(seq 1 50); do
  pr=$(call POST /repos/plumb/ops/pulls '{"head": "pr", "base": "main", "title": "prod: 2Gi for checkout"}' 2>/dev/null \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["number"])' 2>/dev/null) && break
  sleep 0.2
done
[[ ${pr} =~ ^[0-9]+$ ]] || fail "gitea did not open the pull request"

comment() { # [extra flags]: pr-comment for staging and prod against the live snapshots
  cat "${src}/manifests/live/staging.yaml" >"${work}/live.yaml"
  printf -- '---\n' >>"${work}/live.yaml"
  cat "${src}/manifests/live/prod.yaml" >>"${work}/live.yaml"
  GITEA_TOKEN=${GITEA_TOKEN-${token}} "${plumbline}" pr-comment \
    --repo "http://127.0.0.1:${port}/plumb/ops.git" --cache-dir "${work}/cache" \
    --base main --head pr --path manifests/envs/staging --path manifests/envs/prod \
    --live "${work}/live.yaml" --live-kinds Deployment,StatefulSet,DaemonSet,CronJob \
    --policy "${src}/policies/samples/prod-baseline.yaml" \
    --provider gitea --api-url "http://127.0.0.1:${port}" --repository plumb/ops --pr "${pr}" "$@"
}
comments() { call GET "/repos/plumb/ops/issues/${pr}/comments"; }
ids() { comments | python3 -c '
import json, sys
for c in json.load(sys.stdin):
    first = c["body"].split("\n", 1)[0]
    if first.startswith("<!-- plumbline:pr-comment"):
        print(first.split("env=")[1].split(" ")[0], c["id"])'; }

t0=${SECONDS}
comment >"${work}/out1" 2>"${work}/err1" || fail "first pr-comment: $(cat "${work}/err1")"
first_run=$((SECONDS - t0))
grep -q "plumbline: staging: created comment" "${work}/err1" || fail "staging not created: $(cat "${work}/err1")"
grep -q "plumbline: prod: created comment" "${work}/err1" || fail "prod not created: $(cat "${work}/err1")"
first=$(ids)
[[ $(wc -l <<<"${first}") -eq 2 ]] || fail "want 2 comments (staging, prod), got: ${first}"
prod_id=$(awk '$1 == "prod" { print $2 }' <<<"${first}")
body=$(comments | python3 -c 'import json, sys
print([c["body"] for c in json.load(sys.stdin) if "env=prod " in c["body"]][0])')
grep -qF '| `1Gi` | `2Gi` | **already live**: set by hand by `kubectl-edit`' <<<"${body}" \
  || fail "prod's memory limit is not shown as already live: ${body}"
grep -qF '**Policy violations this pull request introduces**' <<<"${body}" || fail "no violation introduced: ${body}"
grep -qF 'NEW_CHECKOUT_FLOW' <<<"${body}" || fail "no cross-environment difference: ${body}"

# Another push to the PR: the same comments are updated in place.
git -C "${work}/demo" checkout -q pr
sed -i 's/value: "on"/value: "beta"/' "${work}/demo/manifests/envs/prod/checkout-resources.yaml"
git -C "${work}/demo" commit -q -am "prod: the new checkout flow in beta"
git -C "${work}/demo" push -q "http://plumb:${token}@127.0.0.1:${port}/plumb/ops.git" pr 2>>"${work}/push.log"
comment >"${work}/out2" 2>"${work}/err2" || fail "second pr-comment: $(cat "${work}/err2")"
grep -q "plumbline: prod: updated comment ${prod_id} " "${work}/err2" || fail "prod not updated in place: $(cat "${work}/err2")"
second=$(ids)
[[ ${second} == "${first}" ]] || fail "comments changed: ${first} -> ${second}"
comments | grep -q 'beta' || fail "the update is not in the comment"

# Nothing changed: nothing written.
comment >"${work}/out3" 2>"${work}/err3" || fail "third pr-comment: $(cat "${work}/err3")"
grep -q "plumbline: prod: unchanged comment ${prod_id} " "${work}/err3" || fail "not unchanged: $(cat "${work}/err3")"
[[ $(ids) == "${first}" ]] || fail "a third run changed the comments"

# A wrong token: 401 naming the URL, never the token; nothing posted.
if GITEA_TOKEN=0123456789abcdef0123456789abcdef01234567 comment >/dev/null 2>"${work}/err4"; then
  fail "a wrong token passed"
fi
grep -q "unauthorized (401)" "${work}/err4" || fail "no 401 message: $(cat "${work}/err4")"
grep -q "http://127.0.0.1:${port}/api/v1/repos/plumb/ops/issues/${pr}/comments" "${work}/err4" \
  || fail "the 401 does not name the URL: $(cat "${work}/err4")"
grep -q "GITEA_TOKEN" "${work}/err4" || fail "the 401 does not name the variable: $(cat "${work}/err4")"
grep -q "0123456789abcdef" "${work}/err4" && fail "the token was printed"
grep -q "${token}" "${work}"/err* "${work}"/out* && fail "the token was printed"
# A pull request that does not exist: 404.
if comment --pr 9999 >/dev/null 2>"${work}/err5"; then fail "PR 9999 passed"; fi
# Gitea 1.26 answers a pull request that does not exist with 500 "issue does not exist" (not
# 404 as GitHub does): the error names the pull request and gives Gitea's own message.
grep -q "cannot list the comments of pull request #9999 of plumb/ops (gitea): HTTP 500: issue does not exist" \
  "${work}/err5" || fail "no clear error for a missing pull request: $(cat "${work}/err5")"
[[ $(ids) == "${first}" ]] || fail "the failures changed the comments"

echo "PASS: gitea ready in ${ready} s; first pr-comment ${first_run} s; $((SECONDS - start)) s in all"
