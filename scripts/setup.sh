#!/usr/bin/env bash
# Installs every Debian 12 package bonafide needs to build, run and test.
# Run as root (or with sudo available). Safe to run again.
set -euo pipefail
PKGS=(
  build-essential pkg-config ca-certificates git
  libopencv-dev opencv-data   # OpenCV 4.6 for gocv v0.31.0, cascades, BRISQUE model
  libdlib-dev libdlib-data libblas-dev liblapack-dev  # dlib face landmarks (68-point model)
  ffmpeg                      # decoding (ffprobe + ffmpeg child processes)
  sox                         # test fixtures (pitch-shifted speech)
  chromium chromium-driver    # browser end-to-end tests
)
missing=()
for p in "${PKGS[@]}"; do
  [[ "$p" == \#* ]] && continue
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi
if ! command -v go >/dev/null 2>&1; then
  if [ -x /usr/local/go/bin/go ]; then
    export PATH=$PATH:/usr/local/go/bin
  else
    echo "Go 1.26 or newer is required: https://go.dev/doc/install" >&2
    exit 1
  fi
fi
go version
