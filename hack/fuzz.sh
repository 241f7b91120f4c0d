#!/usr/bin/env bash
# Runs every Go fuzz target of the module for FUZZTIME each (1m by default).
# `make test` already runs their seed corpora; this grows them. A failing
# input is written to the package's testdata/fuzz/<target>/ and becomes a
# seed once committed.
set -euo pipefail
fuzztime="${FUZZTIME:-1m}"
cd "$(dirname "$0")/.."
status=0
while IFS= read -r file; do
  pkg="./$(dirname "$file")"
  for target in $(grep -oE '^func (Fuzz[A-Za-z0-9_]+)' "$file" | awk '{print $2}'); do
    echo "== $pkg $target ($fuzztime)"
    if ! go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg"; then
      status=1
    fi
  done
done < <(git ls-files '*_test.go' | xargs grep -l '^func Fuzz' | sort)
exit $status
