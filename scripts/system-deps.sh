#!/usr/bin/env bash
# Installs the Debian packages the tests use: Ceph RGW (a real S3 server), pydicom's sample DICOM
# files, dcmtk, gnome-keyring and D-Bus (a real Secret Service), and Chromium for the e2e tests
# (driven by playwright-core, never downloaded). Installs
# only what is missing.
set -euo pipefail
packages=(radosgw ceph-mon ceph-osd python3-pydicom dcmtk gnome-keyring dbus curl chromium)
missing=()
for p in "${packages[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "medrelay: installing Debian packages: ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
