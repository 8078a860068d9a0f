#!/usr/bin/env bash
# Installs the Debian packages the test suite needs beyond Node itself, only where missing, so a
# warm machine pays nothing. Called by .ci/run before `npm ci`.
#   softhsm2 + opensc   the PKCS#11 HSM the HSM tests wrap with (test/hsm), and pkcs11-tool
#   g++ make python3    node-gyp, which compiles pkcs11js during `npm ci` (it has no prebuilds)
# Nothing here is needed by a consumer of the library: the handler asset ships prebuilt.
set -euo pipefail

missing=()
dpkg-query -W -f='${Status}' softhsm2 2>/dev/null | grep -q 'install ok installed' || missing+=(softhsm2)
dpkg-query -W -f='${Status}' opensc 2>/dev/null | grep -q 'install ok installed' || missing+=(opensc)
command -v g++ >/dev/null || missing+=(g++)
command -v make >/dev/null || missing+=(make)
command -v python3 >/dev/null || missing+=(python3)

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup-ci-packages: softhsm2, opensc and the node-gyp toolchain are installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then SUDO="sudo -n"; else
    echo "setup-ci-packages: missing ${missing[*]} and not root (no sudo); the HSM tests will be skipped" >&2
    exit 0
  fi
fi
if ! command -v apt-get >/dev/null; then
  echo "setup-ci-packages: missing ${missing[*]} and apt-get is not available; the HSM tests will be skipped" >&2
  exit 0
fi

echo "setup-ci-packages: installing ${missing[*]}"
$SUDO apt-get update -qq
# --no-install-recommends: opensc would otherwise pull in pcscd and a smart card daemon.
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
