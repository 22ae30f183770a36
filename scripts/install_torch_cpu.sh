#!/bin/sh
# Install torch's CPU build into the environment of PYTHON, alone and before the project, so that
# resolving the project's requirements never pulls the CUDA build and its nvidia-* packages.
# The version is the one pinned in constraints.txt. Does nothing when that version is installed.
# A wheel that pip already has locally (find-links) is used without touching the network;
# otherwise the PyTorch CPU index is asked for torch only (TORCH_INDEX_URL names a mirror of it),
# with a short timeout so that an unreachable index fails within seconds instead of minutes.
# usage: sh scripts/install_torch_cpu.sh PYTHON
set -eu
cd "$(dirname "$0")/.."
PY=$1
TORCH=$(grep '^torch==' constraints.txt)
VERSION=${TORCH#torch==}
if "$PY" -c "import importlib.metadata as m, sys; sys.exit(m.version('torch').split('+')[0] != '$VERSION')" 2>/dev/null; then
    exit 0
fi
"$PY" -m pip install -q --no-deps --no-index "$TORCH" 2>/dev/null && exit 0
echo "downloading $TORCH (CPU build, about 200 MB) from ${TORCH_INDEX_URL:-https://download.pytorch.org/whl/cpu}" >&2
"$PY" -m pip install -q --no-deps --timeout 15 --retries 2 \
    --index-url "${TORCH_INDEX_URL:-https://download.pytorch.org/whl/cpu}" "$TORCH"
