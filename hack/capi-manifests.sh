#!/usr/bin/env bash
# Copies Cluster API's CRDs and webhook configurations from the module that
# go.mod pins (sigs.k8s.io/cluster-api) into config/, so the supervisor runs
# CAPI core, KubeadmControlPlane and the kubeadm bootstrap provider in-process
# without clusterctl:
#
#   config/crd/capi/*.yaml       the base CRDs; the KubeadmControlPlane and
#                                KubeadmConfig CRDs get the contract labels
#                                their kustomizations would add
#   config/webhook/capi/*.yaml   one file per provider, the configurations
#                                renamed so they do not replace each other
#                                (all three are named *-webhook-configuration)
#   config/rbac/capi/*.yaml      each provider's ClusterRole (its controllers'
#                                RBAC markers), renamed <provider>-manager-role
#                                for the same reason; config/rbac binds them
#                                to the supervisor's ServiceAccount
#
# The output depends only on the module version, so running it twice changes
# nothing. Usage: hack/capi-manifests.sh [CONFIG_DIR]   (default: config/)
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:-${REPO_ROOT}/config}"
CAPI="$(cd "${REPO_ROOT}" && go list -m -f '{{.Dir}}' sigs.k8s.io/cluster-api)"
if [[ -z "${CAPI}" || ! -d "${CAPI}" ]]; then
  echo "sigs.k8s.io/cluster-api is not in the module cache; run go mod download" >&2
  exit 1
fi

# The core CRDs carry no contract labels upstream either: nothing reads a
# contract from them. KCP and CABPK CRDs must have them, or Cluster API cannot
# resolve their apiVersion (CRD label cluster.x-k8s.io/<contract>).
CONTRACT_LABELS=$'  labels:\n    cluster.x-k8s.io/v1beta1: v1beta1\n    cluster.x-k8s.io/v1beta2: v1beta2'

# copy_crds SRC_DIR LABELS: copy every CRD of SRC_DIR, inserting LABELS under
# the first top-level metadata: key ("" = none). Module-cache files are 0444.
copy_crds() {
  local src=$1 labels=$2 f dst
  for f in "${src}"/*.yaml; do
    dst="${OUT}/crd/capi/$(basename "${f}")"
    if [[ -n "${labels}" ]]; then
      awk -v labels="${labels}" '{ print } !done && /^metadata:$/ { print labels; done = 1 }' "${f}" > "${dst}"
    else
      cat "${f}" > "${dst}"
    fi
    chmod 0644 "${dst}"
  done
}

# copy_webhooks SRC PREFIX: copy a webhook manifest, prefixing the names of its
# Mutating/ValidatingWebhookConfigurations.
copy_webhooks() {
  local src=$1 prefix=$2 dst="${OUT}/webhook/capi/${2}.yaml"
  sed -E "s/^  name: (mutating|validating)-webhook-configuration$/  name: ${prefix}-\1-webhook-configuration/" "${src}" > "${dst}"
  chmod 0644 "${dst}"
}

# copy_role SRC PREFIX: copy a provider's ClusterRole, renaming it.
copy_role() {
  local src=$1 prefix=$2 dst="${OUT}/rbac/capi/${2}.yaml"
  sed -E "s/^  name: manager-role$/  name: ${prefix}-manager-role/" "${src}" > "${dst}"
  chmod 0644 "${dst}"
}

rm -rf "${OUT}/crd/capi" "${OUT}/webhook/capi" "${OUT}/rbac/capi"
mkdir -p "${OUT}/crd/capi" "${OUT}/webhook/capi" "${OUT}/rbac/capi"

copy_crds "${CAPI}/core/config/crd/bases" ""
copy_crds "${CAPI}/controlplane/kubeadm/config/crd/bases" "${CONTRACT_LABELS}"
copy_crds "${CAPI}/bootstrap/kubeadm/config/crd/bases" "${CONTRACT_LABELS}"

copy_webhooks "${CAPI}/core/config/webhook/manifests.yaml" capi
copy_webhooks "${CAPI}/controlplane/kubeadm/config/webhook/manifests.yaml" capi-kubeadm-control-plane
copy_webhooks "${CAPI}/bootstrap/kubeadm/config/webhook/manifests.yaml" capi-kubeadm-bootstrap

copy_role "${CAPI}/core/config/rbac/role.yaml" capi
copy_role "${CAPI}/controlplane/kubeadm/config/rbac/role.yaml" capi-kubeadm-control-plane
copy_role "${CAPI}/bootstrap/kubeadm/config/rbac/role.yaml" capi-kubeadm-bootstrap

# A rename that matched nothing would silently bring the clash back.
for f in "${OUT}"/rbac/capi/*.yaml; do
  if grep -qE '^  name: manager-role$' "${f}" || ! grep -qE '^  name: .*-manager-role$' "${f}"; then
    echo "failed to rename the ClusterRole in ${f}" >&2
    exit 1
  fi
done
for f in "${OUT}"/webhook/capi/*.yaml; do
  if grep -qE '^  name: (mutating|validating)-webhook-configuration$' "${f}"; then
    echo "failed to rename the webhook configurations in ${f}" >&2
    exit 1
  fi
done
