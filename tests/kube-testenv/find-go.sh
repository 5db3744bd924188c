# Sourced by ./build and scripts/install-deps: finds a Go toolchain new enough for go.mod.
#
#   kube_testenv_find_go   puts Go on PATH (the first new enough of: PATH, /usr/local/go/bin,
#                          the toolchain kube_testenv_fetch_go installed) and returns 0 if
#                          one is >= the `go` line of go.mod; otherwise prints why on stderr
#                          and returns 1.
#   kube_testenv_fetch_go  downloads the toolchain named in ./go-toolchain from the Go module
#                          proxy ($GOPROXY's first https entry, default proxy.golang.org),
#                          verifies it against the h1 hash there and installs it under
#                          ${XDG_CACHE_HOME:-~/.cache}/plumbline/go/; then kube_testenv_find_go.
# Sets KUBE_TESTENV_GO_NEED (e.g. 1.26.0) and KUBE_TESTENV_GO_HAVE (e.g. 1.26.8, or "").

kube_testenv_go_cache() { echo "${XDG_CACHE_HOME:-${HOME}/.cache}/plumbline/go"; }

kube_testenv_find_go() {
  local here gomod candidate version best=""
  here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
  gomod="${here}/go.mod"
  KUBE_TESTENV_GO_NEED=$(awk '$1 == "go" { print $2; exit }' "${gomod}")
  KUBE_TESTENV_GO_HAVE=""
  local pinned
  pinned=$(awk '/^go[0-9]/ { print $1; exit }' "${here}/go-toolchain")
  for candidate in "$(command -v go 2>/dev/null)" /usr/local/go/bin/go \
    "$(kube_testenv_go_cache)/${pinned}/bin/go"; do
    [[ -n ${candidate} && -x ${candidate} ]] || continue
    version=$(GOTOOLCHAIN=local "${candidate}" env GOVERSION 2>/dev/null) || continue
    version=${version#go}
    [[ -z ${KUBE_TESTENV_GO_HAVE} ]] && KUBE_TESTENV_GO_HAVE=${version}
    if kube_testenv_version_ge "${version}" "${KUBE_TESTENV_GO_NEED}"; then
      best=${candidate}
      KUBE_TESTENV_GO_HAVE=${version}
      break
    fi
  done
  if [[ -n ${best} ]]; then
    export PATH="$(dirname "${best}"):${PATH}" GOTOOLCHAIN=local
    return 0
  fi
  {
    if [[ -n ${KUBE_TESTENV_GO_HAVE} ]]; then
      echo "kube-testenv: Go ${KUBE_TESTENV_GO_HAVE} is too old:" \
        "tests/kube-testenv/go.mod (k8s.io/kubernetes) needs Go >= ${KUBE_TESTENV_GO_NEED}."
    else
      echo "kube-testenv: no Go toolchain found (PATH, /usr/local/go/bin, $(kube_testenv_go_cache)):" \
        "tests/kube-testenv needs Go >= ${KUBE_TESTENV_GO_NEED} (see its go.mod)."
    fi
    echo "  scripts/install-deps downloads ${pinned} from the Go module proxy (tests/kube-testenv/go-toolchain)."
  } >&2
  return 1
}

kube_testenv_fetch_go() {
  local here version want proxy cache tmp module got
  here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
  read -r version want < <(awk '/^go[0-9]/ { print $1, $2; exit }' "${here}/go-toolchain")
  [[ $(uname -m) == x86_64 ]] || { echo "kube-testenv: fetching Go is set up for linux-amd64 only" >&2; return 1; }
  module="v0.0.1-${version}.linux-amd64"
  proxy=${GOPROXY:-https://proxy.golang.org}
  proxy=${proxy%%[,|]*}
  [[ ${proxy} == https://* ]] || proxy=https://proxy.golang.org
  cache=$(kube_testenv_go_cache)
  mkdir -p "${cache}"
  tmp=$(mktemp -d "${cache}/fetch.XXXXXX")
  echo "kube-testenv: downloading ${version} (golang.org/toolchain@${module}) from ${proxy}" >&2
  if ! curl -fsSL --retry 3 -o "${tmp}/go.zip" "${proxy}/golang.org/toolchain/@v/${module}.zip" \
    || ! unzip -q "${tmp}/go.zip" -d "${tmp}/x"; then
    echo "kube-testenv: could not download or unpack ${proxy}/golang.org/toolchain/@v/${module}.zip" >&2
    rm -rf -- "${tmp}"
    return 1
  fi
  # The go.sum hash of a module zip (golang.org/x/mod/sumdb/dirhash Hash1): SHA-256 over the
  # "<sha256 hex>  <name in the zip>" lines of its files, sorted by name, in base64.
  got=h1:$(cd "${tmp}/x" && find . -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 sha256sum \
    | openssl dgst -sha256 -binary | base64)
  if [[ ${got} != "${want}" ]]; then
    echo "kube-testenv: checksum mismatch for golang.org/toolchain@${module}: got ${got}, want ${want}" >&2
    rm -rf -- "${tmp}"
    return 1
  fi
  chmod -R a+rX "${tmp}/x"
  chmod a+x "${tmp}/x/golang.org/toolchain@${module}"/bin/* \
    "${tmp}/x/golang.org/toolchain@${module}"/pkg/tool/*/*
  rm -rf -- "${cache:?}/${version}"
  mv -- "${tmp}/x/golang.org/toolchain@${module}" "${cache}/${version}"
  rm -rf -- "${tmp}"
  echo "kube-testenv: installed ${version} in ${cache}/${version} (${want} verified)" >&2
  kube_testenv_find_go
}

# kube_testenv_version_ge A B: true if dotted version A >= B (1.26.8 >= 1.26.0).
kube_testenv_version_ge() {
  [[ $(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1) == "$2" ]]
}
