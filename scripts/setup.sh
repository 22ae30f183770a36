#!/bin/sh
# Create .venv and install the project (with test tools when called with --test).
# Idempotent: a second run only checks what is already there (and reinstalls the project).
set -eu
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
sh scripts/install_torch_cpu.sh .venv/bin/python
if [ "${1:-}" = "--test" ]; then
    # Editable, for development: the tests run the checkout's code. setuptools warns that folders
    # of the working directory shadow the package, which is what an editable install is for.
    PYTHONWARNINGS="ignore:Editable installation" \
        .venv/bin/python -m pip install -q -c constraints.txt -e '.[test,milvus]'
    # The browser test drives Debian's Chromium (no browser download); without a CJK font its
    # screenshots show boxes instead of Chinese.
    if ! command -v chromium >/dev/null 2>&1 || ! fc-list :lang=zh | grep -q .; then
        SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
        $SUDO apt-get update -qq
        $SUDO apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null
    fi
else
    # A regular install, as from the wheel: the command does not depend on the checkout.
    .venv/bin/python -m pip install -q -c constraints.txt .
fi
