#!/usr/bin/env bash
# Builds the development/test binaries into a bin directory:
#   kube-apiserver, etcd   (envtest control plane; KUBEBUILDER_ASSETS=<bin>)
#   kube-controller-manager (garbage collector, namespaces, PVC protection)
#   controller-gen         (CRD / deepcopy generation)
#   govc                   (vSphere CLI)
#
# Usage: hack/build-tools.sh [BIN_DIR]    (default: <repo-root>/bin)
#
# Versions are pinned in hack/tools/go.mod (kube-apiserver,
# kube-controller-manager, etcd, controller-gen) and below (govc). A binary
# that already exists in BIN_DIR is skipped, so a second run takes seconds;
# delete it to force a rebuild.
# Works from any directory.
set -euo pipefail

GOVC_VERSION=v0.46.0

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS_DIR="${REPO_ROOT}/hack/tools"

BIN_DIR="${1:-${REPO_ROOT}/bin}"
mkdir -p "${BIN_DIR}"
BIN_DIR="$(cd "${BIN_DIR}" && pwd)" # absolute, relative to the caller's cwd

# k8s.io/kubernetes (and some of its staging modules) are not in the checksum
# database; hack/tools/go.sum already pins their hashes, this only matters
# when go.sum has to be (re)populated.
export GONOSUMDB="${GONOSUMDB:+${GONOSUMDB},}k8s.io/kubernetes"
# Static binaries, no C toolchain needed (kube-apiserver/etcd release builds
# are CGO-free as well).
export CGO_ENABLED=0

log() { echo "build-tools: $*" >&2; }

# version_of MODULE: the version of MODULE that hack/tools/go.mod selects.
version_of() {
	(cd "${TOOLS_DIR}" && go list -m -f '{{.Version}}' "$1")
}

# build NAME PKG [go build flags...]: builds PKG (resolved in hack/tools) to
# BIN_DIR/NAME unless it already exists.
build() {
	local name="$1" pkg="$2"
	shift 2
	local out="${BIN_DIR}/${name}"
	if [[ -x "${out}" ]]; then
		log "${name}: already in ${BIN_DIR}, skipping"
		return 0
	fi
	log "${name}: building ${pkg} ..."
	local start=${SECONDS}
	# Build to a temp name and rename, so an interrupted build never leaves a
	# partial binary behind that a later run would skip.
	(cd "${TOOLS_DIR}" && go build "$@" -o "${out}.tmp" "${pkg}")
	mv -f "${out}.tmp" "${out}"
	log "${name}: done in $((SECONDS - start))s -> ${out}"
}

# kube-apiserver, kube-controller-manager -----------------------------------
# Both from k8s.io/kubernetes at the version hack/tools/go.mod selects, with
# the version stamped in as a release build does (clients and Cluster API read
# it from /version).
k8s_ldflags() {
	local k8s_version k8s_major k8s_minor flags="-s -w"
	k8s_version="$(version_of k8s.io/kubernetes)" # e.g. v1.36.3
	k8s_major="${k8s_version#v}"
	k8s_major="${k8s_major%%.*}"
	k8s_minor="${k8s_version#v*.}"
	k8s_minor="${k8s_minor%%.*}"
	for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
		flags+=" -X ${pkg}.gitVersion=${k8s_version}"
		flags+=" -X ${pkg}.gitMajor=${k8s_major}"
		flags+=" -X ${pkg}.gitMinor=${k8s_minor}"
		flags+=" -X ${pkg}.gitTreeState=clean"
	done
	echo "${flags}"
}
for component in kube-apiserver kube-controller-manager; do
	if [[ ! -x "${BIN_DIR}/${component}" ]]; then
		log "${component}: this takes several minutes"
		build "${component}" "k8s.io/kubernetes/cmd/${component}" -ldflags "$(k8s_ldflags)"
	else
		build "${component}" "k8s.io/kubernetes/cmd/${component}"
	fi
done

# etcd ----------------------------------------------------------------------
# hack/tools/cmd/etcd is a two-line main calling etcdmain.Main; the etcd
# version is the go.etcd.io/etcd/server/v3 requirement in hack/tools/go.mod
# (kept equal to what k8s.io/kubernetes itself requires).
build etcd ./cmd/etcd -ldflags "-s -w"

# controller-gen ------------------------------------------------------------
if [[ ! -x "${BIN_DIR}/controller-gen" ]]; then
	cg_version="$(version_of sigs.k8s.io/controller-tools)"
	build controller-gen sigs.k8s.io/controller-tools/cmd/controller-gen \
		-ldflags "-s -w -X sigs.k8s.io/controller-tools/pkg/version.version=${cg_version}"
else
	build controller-gen sigs.k8s.io/controller-tools/cmd/controller-gen
fi

# govc ----------------------------------------------------------------------
if [[ -x "${BIN_DIR}/govc" ]]; then
	log "govc: already in ${BIN_DIR}, skipping"
else
	log "govc: go install github.com/vmware/govmomi/govc@${GOVC_VERSION} ..."
	start=${SECONDS}
	# Outside any module (@version), so hack/tools/go.mod does not apply.
	(cd "${TOOLS_DIR}" && GOBIN="${BIN_DIR}" GOFLAGS= go install \
		-ldflags "-s -w -X github.com/vmware/govmomi/govc/flags.BuildVersion=${GOVC_VERSION}" \
		"github.com/vmware/govmomi/govc@${GOVC_VERSION}")
	log "govc: done in $((SECONDS - start))s -> ${BIN_DIR}/govc"
fi

log "all tools present in ${BIN_DIR}"
