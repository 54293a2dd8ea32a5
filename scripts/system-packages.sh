#!/usr/bin/env bash
# The system packages Jemput's tests use, from Debian's archive, installed when missing:
# - the TPM backend: tpm2-pytss builds against libtss2-dev (pkg-config finds it) and its
#   tests run on swtpm, the reference software TPM, through the swtpm TCTI;
# - the browser kit's and the district report's tests drive Debian's Chromium through its
#   chromedriver (no browser download);
# - the district store's tests start throwaway PostgreSQL servers.
# Run as root (CI does); a developer runs it once with sudo on a fresh machine.
set -euo pipefail
PACKAGES=(
  build-essential pkg-config libtss2-dev libtss2-tcti-swtpm0 swtpm swtpm-tools
  chromium chromium-driver
  postgresql
)
missing=()
for package in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all present"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "system packages missing: ${missing[*]}" >&2
  echo "install them with: sudo $0" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=600 update -q
apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${missing[@]}"
