#!/usr/bin/env bash
# Make sure the ffmpeg command is on this machine, for the 360-degree scene tests: they make a
# small equirectangular clip with numpy and encode it with ffmpeg (Panda3D plays it back with its
# own bundled ffmpeg libraries; only making test clips needs the command).
# Installed with apt-get when missing and we are root, else one sentence saying how to get it.
set -u
command -v ffmpeg >/dev/null 2>&1 && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's ffmpeg for the 360-degree scene tests..."
  if DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends ffmpeg >/dev/null 2>&1 \
     || { apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends ffmpeg >/dev/null 2>&1; }; then
    exit 0
  fi
fi
echo "No ffmpeg for the 360-degree scene tests: run 'sudo apt-get install ffmpeg' (Debian/Ubuntu) or install it from ffmpeg.org." >&2
exit 1
