#!/usr/bin/env bash
# Make sure a Chromium that Playwright can drive is on this machine, for the browser tests.
# Order: Debian's chromium-headless-shell (installed with apt-get when missing and we are root),
# else Playwright's own downloaded browser, else one sentence saying how to get one.
set -u
for bin in /usr/bin/chromium-headless-shell /usr/lib/chromium/chromium-headless-shell /usr/bin/chromium; do
  [ -x "$bin" ] && exit 0
done
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's chromium-headless-shell for the browser tests..."
  if DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium-headless-shell >/dev/null 2>&1 \
     || { apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium-headless-shell >/dev/null 2>&1; }; then
    exit 0
  fi
fi
if ls "${PLAYWRIGHT_BROWSERS_PATH:-$HOME/.cache/ms-playwright}"/chromium* >/dev/null 2>&1; then
  exit 0
fi
echo "No Chromium for the browser tests: run 'sudo apt-get install chromium-headless-shell' (Debian/Ubuntu) or '.venv/bin/playwright install chromium'." >&2
exit 1
