#!/usr/bin/env bash
# Starts a real Gitea 1.26.4 (tests/kube-testenv/build gitea) for the forge tests: SQLite in
# WORK, an admin user `plumb` and its API token, web on a free loopback port, webhooks allowed
# to loopback addresses (the controller under test). Writes WORK/port and WORK/token, then runs
# Gitea in the foreground (the caller stops it with SIGTERM); WORK/ready once the API answers
# is the caller's to wait for (curl WORK/port's /api/v1/version).
#
#   start_gitea.sh SOURCE_DIR WORK
set -euo pipefail
src=$1
work=$2
fail() { echo "start_gitea: $*" >&2; exit 1; }
gitea=$("${src}/tests/kube-testenv/build" gitea) || fail "cannot build gitea"
static=$(dirname "${gitea}")/gitea-static
[[ -d ${static}/templates ]] || fail "no ${static}: run tests/kube-testenv/build gitea"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "${work}/data"
cat >"${work}/app.ini" <<INI
I_AM_BEING_UNSAFE_RUNNING_AS_ROOT = true
RUN_MODE = prod
[server]
HTTP_ADDR = 127.0.0.1
HTTP_PORT = ${port}
ROOT_URL = http://127.0.0.1:${port}/
STATIC_ROOT_PATH = ${static}
APP_DATA_PATH = ${work}/data
DISABLE_SSH = true
LFS_START_SERVER = false
OFFLINE_MODE = true
[database]
DB_TYPE = sqlite3
PATH = ${work}/data/gitea.db
[repository]
ROOT = ${work}/repos
DEFAULT_BRANCH = main
[security]
INSTALL_LOCK = true
SECRET_KEY = plumbline-test-secret-key
[webhook]
ALLOWED_HOST_LIST = loopback
DELIVER_TIMEOUT = 10
[mailer]
ENABLED = false
[oauth2]
ENABLED = false
[actions]
ENABLED = false
[cron]
ENABLED = false
[indexer]
ISSUE_INDEXER_TYPE = db
REPO_INDEXER_ENABLED = false
[session]
PROVIDER = memory
[cache]
ADAPTER = memory
[log]
MODE = file
ROOT_PATH = ${work}/log
INI
G=("${gitea}" --config "${work}/app.ini" --work-path "${work}")
"${G[@]}" migrate >"${work}/setup.log" 2>&1 || fail "gitea migrate: $(tail -5 "${work}/setup.log")"
"${G[@]}" admin user create --admin --username plumb --password plumb-pass-1234 \
  --email plumb@example.test --must-change-password=false >>"${work}/setup.log" 2>&1 \
  || fail "gitea admin user create: $(tail -5 "${work}/setup.log")"
# Gitea prints its warnings (running as root) on stdout too: the token is the line that is one.
token=$("${G[@]}" admin user generate-access-token --username plumb --token-name ci --scopes all --raw 2>>"${work}/setup.log" \
  | grep -E '^[0-9a-f]{40}$' | tail -n 1 || true)
[[ ${token} =~ ^[0-9a-f]{40}$ ]] || fail "no token from gitea (see setup.log)"
(umask 077; printf '%s' "${token}" >"${work}/token")
printf '%s' "${port}" >"${work}/port"
exec "${G[@]}" web
