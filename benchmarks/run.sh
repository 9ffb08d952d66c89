#!/usr/bin/env bash
# Run every benchmark (benchmarks/bench_*.py) and rewrite its section of docs/benchmarks.md.
#   bash benchmarks/run.sh              all of them
#   bash benchmarks/run.sh screening    only bench_screening.py
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh dev >/dev/null
pattern="${1:-*}"
for bench in benchmarks/bench_${pattern}.py; do
  echo "== ${bench}"
  .venv/bin/python -m "benchmarks.$(basename "${bench}" .py)"
done
