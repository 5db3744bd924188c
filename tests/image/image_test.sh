#!/usr/bin/env bash
# The image is complete: scripts/build-image packs the plumbline binary into an OCI archive,
# skopeo and umoci (standard OCI tools, which check every digest) unpack its root filesystem,
# and inside that root alone (chroot, as the image's non-root user, read-only where the
# kernel lets this process mount) `plumbline version` and the demo `diff` run and give the
# same report as the binary outside; the image's helm renders the demo chart there.
#
#   image_test.sh PLUMBLINE_BINARY SOURCE_DIR
# Exit 0 pass, 1 fail, 77 skipped (not root: chroot needs it).
set -euo pipefail
binary=$1
src=$2
fail() { echo "FAIL: $*" >&2; exit 1; }
for tool in skopeo umoci git ldd setpriv; do
  command -v "${tool}" >/dev/null || fail "${tool} is not installed (scripts/install-deps installs it)"
done
[[ $(id -u) -eq 0 ]] || { echo "SKIP: chroot needs root"; exit 77; }
chroot=$(command -v chroot || echo /usr/sbin/chroot)

work=$(mktemp -d "${TMPDIR:-/tmp}/plumbline-image-test.XXXXXX")
trap 'rm -rf -- "${work}"' EXIT
chmod 0755 "${work}" # the image's user runs the binary outside the image on the same demo

helm=$("${src}/tests/kube-testenv/build" helm) || fail "cannot build helm"
"${src}/scripts/build-image" --binary "${binary}" --helm "${helm}" --output "${work}/a.oci.tar" --tag test
"${src}/scripts/build-image" --binary "${binary}" --helm "${helm}" --output "${work}/b.oci.tar" --tag test >/dev/null
cmp -s "${work}/a.oci.tar" "${work}/b.oci.tar" || fail "two builds of the same binary differ"

# The image config: non-root user, `plumbline controller` by default.
config=$(skopeo inspect --config "oci-archive:${work}/a.oci.tar:test")
grep -q '"User": "65532:65532"' <<<"${config}" || fail "the image's user is not 65532: ${config}"
tr -d ' \n' <<<"${config}" | grep -q '"Entrypoint":\["/usr/local/bin/plumbline"\],"Cmd":\["controller"\]' \
  || fail "the entrypoint is not plumbline controller: ${config}"

skopeo copy -q "oci-archive:${work}/a.oci.tar:test" "oci:${work}/oci:test"
umoci unpack --image "${work}/oci:test" "${work}/bundle" >/dev/null
root=${work}/bundle/rootfs
chmod 0755 "${work}/bundle"

# Exactly the libraries ldd lists for plumbline, gpg and gpgconf (and the loader), no others.
want=$(ldd "${binary}" /usr/bin/gpg /usr/bin/gpgconf |
  awk '$2 == "=>" { print $1 } $1 ~ /^\// && $1 !~ /:$/ { n = split($1, p, "/"); print p[n] }' | sort -u)
have=$(find "${root}/usr/lib" "${root}/usr/lib64" -type f -name '*.so*' -printf '%f\n' | sort -u)
[[ ${want} == "${have}" ]] || fail "image libraries differ from ldd's: $(diff <(echo "${want}") <(echo "${have}"))"
certs=$(grep -c 'BEGIN CERTIFICATE' "${root}/etc/ssl/certs/ca-certificates.crt")
((certs > 100)) || fail "only ${certs} CA certificates in the image"
[[ $(stat -c %u "${root}/var/cache/plumbline") == 65532 ]] || fail "/var/cache/plumbline is not the user's"

# The demo, as a Git repository inside the image root (libgit2 reads it there).
demo=${root}/tmp/demo
mkdir -p "${demo}/policies"
cp -r "${src}/manifests" "${demo}/"
cp -r "${src}/policies/samples" "${demo}/policies/"
git -C "${demo}" init -q
git -C "${demo}" add -A
git -C "${demo}" -c user.name=test -c user.email=test@example.invalid commit -qm demo
# The head is signed with a throw-away OpenPGP key; the image's gpg checks it below.
gnupg=${work}/gnupg
mkdir -m 0700 "${gnupg}"
quiet_gpg() { GNUPGHOME=${gnupg} gpg --batch --quiet --no-tty --pinentry-mode loopback --passphrase '' "$@"; }
quiet_gpg --quick-gen-key 'plumbline image test <signer@example.invalid>' ed25519 sign never 2>/dev/null
quiet_gpg --quick-gen-key 'someone else <other@example.invalid>' ed25519 sign never 2>/dev/null
fprs=($(quiet_gpg --with-colons --list-secret-keys | awk -F: '$1 == "fpr" { print $10 }'))
((${#fprs[@]} == 2)) || fail "expected two test keys, got: ${fprs[*]}"
GNUPGHOME=${gnupg} git -C "${demo}" -c user.name=test -c user.email=signer@example.invalid \
  -c gpg.format=openpgp -c user.signingkey="${fprs[0]}" commit -q -S --allow-empty -m signed
quiet_gpg --armor --export "${fprs[0]}" >"${root}/tmp/signer.asc"
quiet_gpg --armor --export "${fprs[1]}" >"${root}/tmp/other.asc"
revision=$(git -C "${demo}" rev-parse HEAD)
chown -R 65532:65532 "${demo}" # libgit2 opens only repositories its user owns

# in_image ARGS...: plumbline ARGS inside the root, as 65532, with an empty environment and
# the root mounted read-only when this process may create a mount namespace.
readonly_root=no
if unshare -m true 2>/dev/null; then readonly_root=yes; fi
in_image() {
  if [[ ${readonly_root} == yes ]]; then
    env -i unshare -m sh -c 'mount --bind "$1" "$1" && mount -o remount,ro,bind "$1" && shift && exec "$@"' \
      sh "${root}" "${chroot}" --userspec=65532:65532 "${root}" /usr/local/bin/plumbline "$@"
  else
    env -i "${chroot}" --userspec=65532:65532 "${root}" /usr/local/bin/plumbline "$@"
  fi
}

# in_image_with_tmp ARGS...: the same with a writable TMPDIR, as the pod's emptyDir /tmp
# (the demo lives in the image's /tmp here, so a tmpfs goes on the user's cache folder).
in_image_with_tmp() {
  if [[ ${readonly_root} == yes ]]; then
    env -i unshare -m sh -c 'mount --bind "$1" "$1" && mount -o remount,ro,bind "$1" &&
      mount -t tmpfs -o uid=65532,gid=65532,mode=0700 tmpfs "$1/var/cache/plumbline" && shift && exec "$@"' \
      sh "${root}" /usr/bin/env TMPDIR=/var/cache/plumbline "${chroot}" --userspec=65532:65532 "${root}" \
      /usr/local/bin/plumbline "$@"
  else
    env -i TMPDIR=/var/cache/plumbline "${chroot}" --userspec=65532:65532 "${root}" /usr/local/bin/plumbline "$@"
  fi
}

version=$(in_image version) || fail "plumbline version failed in the image"
[[ ${version} == "$("${binary}" version)" ]] || fail "version in the image: ${version}"

kinds=Deployment,StatefulSet,DaemonSet,CronJob  # what the demo's snapshot holds
demo_args=(--path manifests/envs/prod --live /tmp/demo/manifests/live/prod.yaml --live-kinds "${kinds}"
  --policy /tmp/demo/policies/samples/prod-baseline.yaml --format json)
set +e
inside=$(in_image diff --repo /tmp/demo "${demo_args[@]}" 2>"${work}/inside.err")
status=$?
set -e
((status == 1)) || fail "demo diff in the image exited ${status}: $(cat "${work}/inside.err")"
grep -q "\"revision\": *\"${revision}\"" <<<"${inside}" || fail "no revision ${revision} in ${inside}"
grep -q '"drifts": *7' <<<"${inside}" || fail "the demo's 7 drifts are not in ${inside}"
# The same report as the binary outside the image (paths mapped).
outside=$(cd / && HOME=/nonexistent setpriv --reuid=65532 --regid=65532 --clear-groups "${binary}" diff --repo "${demo}" --path manifests/envs/prod \
  --live "${demo}/manifests/live/prod.yaml" --live-kinds "${kinds}" --policy "${demo}/policies/samples/prod-baseline.yaml" \
  --format json 2>"${work}/outside.err" | sed "s#${root}##g") || true
[[ ${inside} == "${outside}" ]] || fail "the report in the image differs: $(diff <(echo "${inside}") <(echo "${outside}") | head -20; cat "${work}/outside.err")"

# The chart of the demo, rendered by the image's own helm (found on the image's PATH) as the
# image's user on the read-only root: it finds the planted drift, and only it.
set +e
helm_report=$(in_image_with_tmp diff --repo /tmp/demo --path manifests/charts/payments --render helm \
  --helm-values manifests/charts/payments/values-prod.yaml --helm-namespace shop-prod \
  --live /tmp/demo/manifests/live/payments.yaml --live-kinds Deployment --format json 2>"${work}/helm.err")
status=$?
set -e
((status == 1)) || fail "the helm demo in the image exited ${status}: $(cat "${work}/helm.err")"
grep -q '"drifts": *1' <<<"${helm_report}" || fail "not exactly the planted drift: ${helm_report}"

# The signed head, verified by the image's own gpg through GPGME (the container runtime gives
# every pod /dev/null, which GPGME hands to gpg; the unpacked root has no /dev).
mkdir -p "${root}/dev"
[[ -e ${root}/dev/null ]] || mknod -m 0666 "${root}/dev/null" c 1 3
set +e
signed=$(in_image_with_tmp diff --repo /tmp/demo "${demo_args[@]}" --verify-openpgp-keys /tmp/signer.asc \
  2>"${work}/signed.err")
status=$?
set -e
((status == 1)) || fail "the signed demo in the image exited ${status}: $(cat "${work}/signed.err")"
[[ ${signed} == "${inside}" ]] || fail "the verified report differs: $(diff <(echo "${inside}") <(echo "${signed}") | head)"
set +e
in_image_with_tmp diff --repo /tmp/demo "${demo_args[@]}" --verify-openpgp-keys /tmp/other.asc \
  >"${work}/unsigned.out" 2>"${work}/unsigned.err"
status=$?
set -e
((status == 2)) || fail "a head signed by an untrusted key exited ${status}: $(cat "${work}/unsigned.err")"
grep -q "${revision}" "${work}/unsigned.err" || fail "the refusal does not name the commit: $(cat "${work}/unsigned.err")"
[[ ! -s ${work}/unsigned.out ]] || fail "a report was printed for an unverified commit"

echo "PASS: image $(stat -c %s "${work}/a.oci.tar") bytes, $(du -sk "${root}" | cut -f1) KiB unpacked," \
  "${certs} CA certificates, read-only root: ${readonly_root}"
