#!/usr/bin/env bash
# Installs Debian packages the tests need (haproxy), with sudo when not root.
set -euo pipefail
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
if ! $SUDO apt-get install -y --no-install-recommends "$@"; then
  $SUDO apt-get update
  $SUDO apt-get install -y --no-install-recommends "$@"
fi
