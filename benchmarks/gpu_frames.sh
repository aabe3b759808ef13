#!/usr/bin/env bash
# Frame pacing on a machine with an NVIDIA GPU: the render process through EGL (p3headlessgl),
# alone and under the loaded control process, as `make bench` does with software rendering.
# Run from the repository root with vret's packages importable; writes bench-results-gpu.json.
set -euo pipefail
out="${1:-bench-results-gpu.json}"
seconds="${SECONDS_PER_RUN:-20}"
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader || true
python3 - <<'PY'
from scenes.stage import configure, make_base
configure("offscreen", (320, 240), None, pipe="egl")
base = make_base()
gsg = base.win.getGsg()
print("EGL renderer:", gsg.getDriverVendor(), "|", gsg.getDriverRenderer())
PY
python3 -m benchmarks --only frames --pipe egl --size 1280x720 --seconds "$seconds" \
  --thumbnails "${THUMBNAILS_HZ:-4}" --out "$out"
