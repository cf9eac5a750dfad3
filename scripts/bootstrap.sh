#!/usr/bin/env bash
# Create the virtualenv and install OwnerDesk into it, on a machine that has only Python 3.11.
set -euo pipefail
venv=${1:-.venv}

python=""
for candidate in python3.11 python3; do
  if command -v "$candidate" >/dev/null 2>&1 \
     && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
    python=$(command -v "$candidate")
    break
  fi
done
if [ -z "$python" ]; then
  echo "OwnerDesk needs Python 3.11 (python3.11 or python3 on PATH)" >&2
  exit 1
fi

if [ ! -x "$venv/bin/python" ]; then
  if ! "$python" -m venv "$venv" 2>/dev/null; then
    # Debian splits venv/ensurepip into python3.11-venv.
    rm -rf "$venv"
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      echo "installing python3.11-venv with apt" >&2
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3.11-venv >&2 \
        || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3.11-venv >&2; }
      "$python" -m venv "$venv"
    else
      "$python" -m pip install --user --quiet virtualenv
      "$python" -m virtualenv "$venv"
    fi
  fi
fi

"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip 2>&1 | grep -v '^WARNING: Location' || true
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e '.[dev]' 2>&1 | grep -v '^WARNING: Location' || true
"$venv/bin/python" -c 'import backend, bot, scheduler' # fail here, not later, if the install broke
