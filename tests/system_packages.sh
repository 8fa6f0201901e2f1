#!/usr/bin/env bash
# The system packages the tests need: bubblewrap (the grading sandbox), Chromium (the browser tests,
# driven by Playwright, which never downloads a browser of its own) and npm (the course site's ONNX Runtime
# Web and MathJax, `npm ci` in web/). Installed here when missing and we
# can (root, or sudo without a password); otherwise we stop at once with the exact command to run.
# `make test` and .ci/run both call this.
set -euo pipefail
need=()
command -v bwrap >/dev/null 2>&1 || need+=(bubblewrap)
[ -x /usr/bin/chromium ] || need+=(chromium chromium-driver)
command -v npm >/dev/null 2>&1 || need+=(npm)
[ ${#need[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
    echo "make test needs these system packages (Debian/Ubuntu names): ${need[*]}." >&2
    echo "Install them with your system's package manager (e.g. 'sudo dnf install bubblewrap chromium'), then run make test again." >&2
    exit 1
fi
install="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y ${need[*]}"
if [ "$(id -u)" = 0 ]; then
    sh -c "$install"
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo sh -c "$install"
else
    echo "make test needs these system packages: ${need[*]}. Install them, then run make test again:" >&2
    echo "    sudo apt-get update && sudo apt-get install -y ${need[*]}" >&2
    exit 1
fi
