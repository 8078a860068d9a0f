#!/usr/bin/env bash
# The manual BYOK procedure (README "Why": the console / partner guide's steps), scripted with the
# AWS CLI and openssl, for a SYMMETRIC_DEFAULT key wrapped with RSAES_OAEP_SHA_256 under an
# RSA_4096 wrapping key: the same key type the benchmark's handler imports.
#
#   KMS_ENDPOINT=http://127.0.0.1:PORT bench/manual-flow.sh
#
# Only talks to KMS_ENDPOINT (a local emulator). Prints one JSON line: wall milliseconds per step,
# the total, and the CPU seconds of every process it started (bash's `times`).
set -euo pipefail
: "${KMS_ENDPOINT:?set KMS_ENDPOINT to the local KMS emulator, e.g. http://127.0.0.1:4566}"
export AWS_REGION="${AWS_REGION:-us-east-1}" AWS_DEFAULT_REGION="${AWS_REGION:-us-east-1}"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-AKIALOCALTEST000000}" AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-local-secret-access-key}"
export AWS_PAGER="" AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
kms() { aws kms --endpoint-url "$KMS_ENDPOINT" --output text "$@"; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
ms() { echo $(( $(date +%s%N) / 1000000 )); }
steps=()
step() { local name="$1"; shift; local t0; t0=$(ms); "$@"; steps+=("\"$name\":$(( $(ms) - t0 ))"); }

start=$(ms)
create_key() { key_arn=$(kms create-key --origin EXTERNAL --key-spec SYMMETRIC_DEFAULT --key-usage ENCRYPT_DECRYPT --description "manual BYOK (bench)" --query KeyMetadata.Arn); }
step create-key create_key

get_parameters() {
  kms get-parameters-for-import --key-id "$key_arn" --wrapping-algorithm RSAES_OAEP_SHA_256 --wrapping-key-spec RSA_4096 \
    --query '[PublicKey,ImportToken]' > params.txt
  cut -f1 params.txt | base64 -d > WrappingPublicKey.bin
  cut -f2 params.txt | base64 -d > ImportToken.bin
}
step get-parameters-for-import get_parameters

step openssl-rand openssl rand -out PlaintextKeyMaterial.bin 32

step openssl-pkeyutl-oaep openssl pkeyutl -encrypt -in PlaintextKeyMaterial.bin -out EncryptedKeyMaterial.bin \
  -inkey WrappingPublicKey.bin -keyform DER -pubin \
  -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256

import_material() {
  kms import-key-material --key-id "$key_arn" --encrypted-key-material fileb://EncryptedKeyMaterial.bin \
    --import-token fileb://ImportToken.bin --expiration-model KEY_MATERIAL_DOES_NOT_EXPIRE > /dev/null
}
step import-key-material import_material
total=$(( $(ms) - start ))
# `times` prints the shell's and its children's user and system CPU time.
# (Redirected, not piped: a pipe would run it in a subshell, which has no children.)
times > times.txt
cpu=$(tail -n 1 times.txt | awk '{ gsub(/[ms]/, " "); split($0, a, " "); print a[1] * 60 + a[2] + a[3] * 60 + a[4] }')
# The plaintext material is not kept.
rm -f PlaintextKeyMaterial.bin
# Not timed: the key is Enabled, i.e. the import worked.
state=$(kms describe-key --key-id "$key_arn" --query KeyMetadata.KeyState)
IFS=,; echo "{\"keyArn\":\"$key_arn\",\"keyState\":\"$state\",\"stepsMs\":{${steps[*]}},\"totalMs\":$total,\"childCpuSeconds\":$cpu}"
