#!/usr/bin/env bash
# Print a Python >= 3.12 interpreter (Django 6.1 needs it): PATH first, then pyenv's versions.
set -u
ok() { "$1" -c 'import sys, venv, sqlite3, ssl; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; }
for c in python3.13 python3.12 python3; do
  p=$(command -v "$c" 2>/dev/null) && ok "$p" && { echo "$p"; exit 0; }
done
root=$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")
for d in $(ls -d "$root"/versions/3.1[2-9]* 2>/dev/null | sort -V); do
  ok "$d/bin/python3" && { echo "$d/bin/python3"; exit 0; }
done
echo "error: Switchyard needs Python >= 3.12 (Django 6.1); none found on PATH or in pyenv" >&2
exit 1
