#!/usr/bin/env bash
# `plumbline pr-comment --provider gitlab` against a stateful fake of GitLab's merge request
# notes API written from its documentation (fake_forge_server.py --flavor gitlab): 150 notes
# by others, a third of them system notes (two pages by X-Next-Page), a 429 with Retry-After
# on the first write, the note created once and then updated in place with PUT.
#
#   gitlab_fake_test.sh PLUMBLINE_BINARY SOURCE_DIR
set -euo pipefail
plumbline=$1
src=$2
here=${src}/tests/integration/forges
fail() { echo "FAIL: $*" >&2; exit 1; }
start=${SECONDS}
work=$(mktemp -d "${TMPDIR:-/tmp}/plumbline-gitlab-test.XXXXXX")
fake_pid=""
cleanup() {
  if [[ -n ${fake_pid} ]]; then kill "${fake_pid}" 2>/dev/null || true; wait "${fake_pid}" 2>/dev/null || true; fi
  rm -rf -- "${work}"
}
trap cleanup EXIT
token=glpat-plumblineTestToken012345
python3 "${here}/fake_forge_server.py" --flavor gitlab --token "${token}" --repository group/ops \
  --pr 3 --seed 150 --rate-limit 1 --port-file "${work}/fake.port" 2>"${work}/fake.log" &
fake_pid=$!
for _ in $(seq 1 100); do [[ -f ${work}/fake.port ]] && break; sleep 0.05; done
fake=http://127.0.0.1:$(cat "${work}/fake.port")
"${here}/demo_pr_repo.sh" "${src}" "${work}/demo"
comment() {
  GITLAB_TOKEN=${GITLAB_TOKEN-${token}} "${plumbline}" pr-comment --repo "${work}/demo" --base main --head pr \
    --path manifests/envs/prod --provider gitlab --api-url "${fake}/api/v4" \
    --repository group/ops --pr 3 "$@"
}
comment >/dev/null 2>"${work}/err1" || fail "first pr-comment: $(cat "${work}/err1")"
grep -q "plumbline: prod: created comment" "${work}/err1" || fail "not created: $(cat "${work}/err1")"
id=$(sed -n 's/.*created comment \([0-9]*\) .*/\1/p' "${work}/err1")
git -C "${work}/demo" checkout -q pr
sed -i 's/value: "on"/value: "beta"/' "${work}/demo/manifests/envs/prod/checkout-resources.yaml"
git -C "${work}/demo" commit -q -am "prod: the new checkout flow in beta"
comment >/dev/null 2>"${work}/err2" || fail "second pr-comment: $(cat "${work}/err2")"
grep -q "plumbline: prod: updated comment ${id} " "${work}/err2" || fail "not updated in place: $(cat "${work}/err2")"
if GITLAB_TOKEN=wrong comment >/dev/null 2>"${work}/err3"; then fail "a wrong token passed"; fi
grep -q "unauthorized (401)" "${work}/err3" || fail "no 401: $(cat "${work}/err3")"
grep -q "${token}" "${work}"/err* && fail "the token was printed"

check=$(cat <<'PY'
import json, sys
state = json.load(sys.stdin)
ours = [c for c in state["comments"].values() if c["body"].startswith("<!-- plumbline:pr-comment env=prod -->")]
assert len(ours) == 1, "want one plumbline note, got %d" % len(ours)
assert str(ours[0]["id"]) == sys.argv[1]
assert "beta" in ours[0]["body"]
assert state["rate_limited"] == 1
log = [e for e in state["log"] if e["path"] != "/_state"]
assert any("page=2" in e["path"] for e in log if e["method"] == "GET"), log
methods = [e["method"] for e in log]
assert methods.count("POST") == 2 and methods.count("PUT") == 1, methods
PY
)
python3 -c "${check}" "${id}" <<<"$(curl -sf "${fake}/_state")" || fail "the fake's state is wrong"
echo "PASS: $((SECONDS - start)) s"
