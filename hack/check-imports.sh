#!/usr/bin/env bash
# Checks the import rules of DESIGN.md that the compiler does not:
#   - no package of this module imports "testing" from a non-test file;
#   - no non-test file imports a package under test/;
#   - the supervisor binary links no package under test/, and "testing"
#     only through Cluster API's own code (see ALLOWED_TESTING_IMPORTERS).
set -euo pipefail
cd "$(dirname "$0")/.."
module="$(go list -m)"
fail=0

# Packages that import "testing" from non-test files (GoFiles only).
own="$(go list -f '{{if .Imports}}{{.ImportPath}} {{join .Imports " "}}{{end}}' ./... |
	awk '{for (i = 2; i <= NF; i++) if ($i == "testing") print $1}')"
if [[ -n "${own}" ]]; then
	echo "check-imports: these packages import \"testing\" outside _test.go files:" >&2
	echo "${own}" | sed 's/^/  /' >&2
	fail=1
fi

# Non-test files importing a package under test/ (test/ packages may
# import each other: they are only ever linked into test binaries).
bad="$(go list -f '{{.ImportPath}} {{join .Imports " "}}' ./... |
	awk -v t="${module}/test/" 'index($1, t) != 1 {for (i = 2; i <= NF; i++) if (index($i, t) == 1) print $1 " -> " $i}')"
if [[ -n "${bad}" ]]; then
	echo "check-imports: non-test code imports test/ packages:" >&2
	echo "${bad}" | sed 's/^/  /' >&2
	fail=1
fi

# The binary. Cluster API v1.14's sigs.k8s.io/cluster-api/util/conversion
# (imported by its core reconcilers and webhooks) imports "testing" for its
# fuzz helpers, so every Cluster API manager links it, ours included; that
# importer, and apimachinery's apitesting reached through it, are the only
# ones allowed.
ALLOWED_TESTING_IMPORTERS="sigs.k8s.io/cluster-api/util/conversion k8s.io/apimachinery/pkg/api/apitesting"
deps="$(go list -deps -f '{{.ImportPath}} {{join .Imports " "}}' .)"
if grep -q "^${module}/test/" <<<"${deps}"; then
	echo "check-imports: the supervisor binary links test/ packages:" >&2
	grep "^${module}/test/" <<<"${deps}" | cut -d' ' -f1 | sed 's/^/  /' >&2
	fail=1
fi
importers="$(awk '{for (i = 2; i <= NF; i++) if ($i == "testing") print $1}' <<<"${deps}")"
for p in ${importers}; do
	if [[ " ${ALLOWED_TESTING_IMPORTERS} " != *" ${p} "* ]]; then
		echo "check-imports: the supervisor binary links \"testing\" through ${p}" >&2
		fail=1
	fi
done
exit "${fail}"
