# Sourced by ./build and scripts/install-deps: finds a Go toolchain new enough for go.mod.
#
#   kube_testenv_find_go   puts Go on PATH (from PATH, else /usr/local/go/bin) and returns 0
#                          if its version is >= the `go` line of go.mod; otherwise prints why
#                          on stderr and returns 1.
# Sets KUBE_TESTENV_GO_NEED (e.g. 1.26.0) and KUBE_TESTENV_GO_HAVE (e.g. 1.26.8, or "").

kube_testenv_find_go() {
  local gomod
  gomod="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/go.mod"
  KUBE_TESTENV_GO_NEED=$(awk '$1 == "go" { print $2; exit }' "${gomod}")
  KUBE_TESTENV_GO_HAVE=""
  if ! command -v go >/dev/null 2>&1 && [[ -x /usr/local/go/bin/go ]]; then
    export PATH="/usr/local/go/bin:${PATH}"
  fi
  if command -v go >/dev/null 2>&1; then
    KUBE_TESTENV_GO_HAVE=$(GOTOOLCHAIN=local go env GOVERSION 2>/dev/null || true)
    KUBE_TESTENV_GO_HAVE=${KUBE_TESTENV_GO_HAVE#go}
  fi
  if [[ -n ${KUBE_TESTENV_GO_HAVE} ]] && kube_testenv_version_ge "${KUBE_TESTENV_GO_HAVE}" "${KUBE_TESTENV_GO_NEED}"; then
    return 0
  fi
  {
    if [[ -n ${KUBE_TESTENV_GO_HAVE} ]]; then
      echo "kube-testenv: Go ${KUBE_TESTENV_GO_HAVE} at $(command -v go) is too old:" \
        "tests/kube-testenv/go.mod (k8s.io/kubernetes) needs Go >= ${KUBE_TESTENV_GO_NEED}."
    else
      echo "kube-testenv: no Go toolchain found (PATH, /usr/local/go/bin):" \
        "tests/kube-testenv needs Go >= ${KUBE_TESTENV_GO_NEED} (see its go.mod)."
    fi
    echo "  Debian 12's golang-go is Go 1.19, too old. Install Go >= ${KUBE_TESTENV_GO_NEED}" \
      "in /usr/local/go (where this project's machines have it) or put it first on PATH."
    echo "  The kube integration tests (ctest -L kube) cannot run without it."
  } >&2
  return 1
}

# kube_testenv_version_ge A B: true if dotted version A >= B (1.26.8 >= 1.26.0).
kube_testenv_version_ge() {
  [[ $(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1) == "$2" ]]
}
