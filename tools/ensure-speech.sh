#!/usr/bin/env bash
# Make sure espeak-ng is on this machine, for the coach's voice tests (the TTS fallback that
# is always tested; piper-tts is the optional `[voice]` extra). Installed with apt-get when
# missing and we are root, else one sentence saying how to get it.
set -u
command -v espeak-ng >/dev/null 2>&1 && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing espeak-ng for the coach's voice tests..."
  if DEBIAN_FRONTEND=noninteractive apt-get install -y -q espeak-ng >/dev/null 2>&1 \
     || { apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q espeak-ng >/dev/null 2>&1; }; then
    exit 0
  fi
fi
echo "No espeak-ng for the coach's voice tests: run 'sudo apt-get install espeak-ng' (Debian/Ubuntu)." >&2
exit 1
