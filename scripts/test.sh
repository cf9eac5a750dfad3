#!/usr/bin/env bash
# `make test`: the whole suite on SQLite, the database tests again on a real PostgreSQL
# server started for the run, then ruff and mypy.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.venv/bin

run_pytest() {
  # Exit code 5 means "no tests collected": not a failure for an empty selection.
  local rc=0
  "$bin/pytest" "$@" || rc=$?
  if [ "$rc" -eq 5 ]; then rc=0; fi
  return "$rc"
}

tmp=$(mktemp -d /tmp/ownerdesk-test.XXXXXX)
cleanup() {
  scripts/postgres.sh stop "$tmp/pg" || true
  rm -rf "$tmp"
}
trap cleanup EXIT

echo "== headless Chromium for the browser tests"
bash scripts/chromium.sh
export OWNERDESK_REQUIRE_BROWSER=1

echo "== starting a throwaway PostgreSQL server"
pg_url=$(scripts/postgres.sh start "$tmp/pg")

echo "== test suite on SQLite"
env -u OWNERDESK_TEST_DATABASE_URL bash -c "$(declare -f run_pytest); bin=$bin; run_pytest -q"

echo "== database tests on PostgreSQL ($pg_url)"
OWNERDESK_TEST_DATABASE_URL="$pg_url" run_pytest -q -m db

echo "== ruff"
"$bin/ruff" check .
"$bin/ruff" format --check .
echo "== mypy"
"$bin/mypy"
echo "== all checks passed"
