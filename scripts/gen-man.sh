#!/usr/bin/env bash
# Regenerates docs/man/*.1 from the command line's definition (`mtssh man`); a unit test
# (manual::tests::the_manual_pages_in_docs_are_up_to_date) fails while they differ.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q
bin=${CARGO_TARGET_DIR:-target}/debug/mtssh
"$bin" man > docs/man/mtssh.1
for page in run push pull resolve mock bench completions shell-integration man; do
  "$bin" man "$page" > "docs/man/mtssh-$page.1"
done
