#!/usr/bin/env bash
# Debian's Chromium and a CJK font for the browser tests (Playwright drives the system
# browser through executable_path; nothing is downloaded from a browser CDN).
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
fc-list 2>/dev/null | grep -qi "wenquanyi micro hei" || need+=(fonts-wqy-microhei)
fc-list 2>/dev/null | grep -qi "noto color emoji" || need+=(fonts-noto-color-emoji)
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
echo "installing ${need[*]} with apt" >&2
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get install -y -qq "${need[@]}" >/dev/null 2>&1 \
  || { $sudo apt-get update -qq >/dev/null && $sudo apt-get install -y -qq "${need[@]}" >/dev/null; }
