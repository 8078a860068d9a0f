#!/usr/bin/env bash
# Sets up a throwaway SoftHSM2 token for the HSM tests (test/hsm), without touching anything
# global: Debian's softhsm2 is installed if missing, and the configuration and token files live
# in a private folder (default: .softhsm/ in the repository, which is gitignored).
#
#   scripts/setup-softhsm.sh            reuse the token if it exists, else create it
#   scripts/setup-softhsm.sh --reset    delete the token folder and start from an empty token
#
# Prints `export NAME=value` lines on stdout (progress goes to stderr), so a shell can do
#   eval "$(scripts/setup-softhsm.sh)"
# Variables: SOFTHSM_DIR (the folder), PKCS11_TOKEN_LABEL, PKCS11_PIN, PKCS11_SO_PIN (inputs, with
# test defaults) and SOFTHSM2_CONF, PKCS11_MODULE (outputs). The PINs only guard a test token.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
dir="${SOFTHSM_DIR:-$root/.softhsm}"
label="${PKCS11_TOKEN_LABEL:-cdk-kms-byok-test}"
pin="${PKCS11_PIN:-1234}"
so_pin="${PKCS11_SO_PIN:-12345678}"
reset=false
for arg in "$@"; do
  case "$arg" in
    --reset) reset=true ;;
    *) echo "usage: $0 [--reset]" >&2; exit 2 ;;
  esac
done

mkdir -p "$dir"
# Test files run in parallel (jest workers) and may all call this script: one at a time.
exec 9>"$dir/.lock"
flock 9

find_module() {
  local candidate
  for candidate in /usr/lib/softhsm/libsofthsm2.so \
                   "/usr/lib/$(uname -m)-linux-gnu/softhsm/libsofthsm2.so" \
                   /usr/local/lib/softhsm/libsofthsm2.so; do
    if [ -e "$candidate" ]; then echo "$candidate"; return 0; fi
  done
  return 1
}

if ! command -v softhsm2-util >/dev/null || ! find_module >/dev/null; then
  echo "setup-softhsm: installing Debian's softhsm2 and opensc" >&2
  if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo -n"; else
    echo "setup-softhsm: softhsm2 is not installed and this user cannot install it (not root, no sudo)" >&2; exit 3
  fi
  command -v apt-get >/dev/null || { echo "setup-softhsm: softhsm2 is not installed and apt-get is not available" >&2; exit 3; }
  $sudo apt-get update -qq >&2
  # opensc brings pkcs11-tool; without --no-install-recommends it would also pull in pcscd.
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends softhsm2 opensc >&2
fi
module="$(find_module)" || { echo "setup-softhsm: libsofthsm2.so not found after installing softhsm2" >&2; exit 3; }

if $reset; then rm -rf "$dir/tokens"; fi
mkdir -p "$dir/tokens"
conf="$dir/softhsm2.conf"
cat > "$conf.tmp" <<EOF
# Written by scripts/setup-softhsm.sh: a private token store for tests.
directories.tokendir = $dir/tokens/
objectstore.backend = file
log.level = ERROR
slots.removable = false
slots.mechanisms = ALL
library.reset_on_fork = false
EOF
mv "$conf.tmp" "$conf"
export SOFTHSM2_CONF="$conf"

# --init-token --free moves the token to a random slot id: code finds the slot by token label.
# (Captured first: `grep -q` closing the pipe early would fail the pipeline under pipefail.)
slots="$(softhsm2-util --show-slots 2>/dev/null || true)"
if ! grep -Eq "^[[:space:]]*Label:[[:space:]]+$label[[:space:]]*$" <<<"$slots"; then
  echo "setup-softhsm: initialising token '$label' in $dir/tokens" >&2
  softhsm2-util --init-token --free --label "$label" --so-pin "$so_pin" --pin "$pin" >&2
fi

cat <<EOF
export SOFTHSM2_CONF='$conf'
export PKCS11_MODULE='$module'
export PKCS11_TOKEN_LABEL='$label'
export PKCS11_PIN='$pin'
EOF
