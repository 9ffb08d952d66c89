#!/usr/bin/env bash
# Install everything and run listwatch's main job on the embedded default (SQLite and
# the bundled curated registry): a few answers in the terminal, then the server (API and
# web UI) on http://127.0.0.1:8000. Extra arguments go to `listwatch serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
.venv/bin/listwatch status Xiaomi --as-of 2021-02-01
.venv/bin/listwatch status Xiaomi --as-of 2021-04-01
.venv/bin/listwatch status Xiaomi --as-of 2021-06-01
.venv/bin/listwatch obligations Xiaomi --as-of 2021-02-01 --role us-investor
.venv/bin/listwatch history DJI
exec .venv/bin/listwatch serve "$@"
