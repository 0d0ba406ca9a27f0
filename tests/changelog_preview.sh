#!/usr/bin/env bash
# The release notes the next `antsibull-changelog release` would write, without touching this checkout.
#
# Usage: tests/changelog_preview.sh OUTDIR
# Lints changelogs/fragments, copies the collection's tracked and new files (not .build, .venv, .git) to
# OUTDIR/repo, and there runs `antsibull-changelog release` for the version in galaxy.yml (or `generate` when
# changelogs/changelog.yaml already has that version). The result is OUTDIR/CHANGELOG.rst and
# OUTDIR/changelog.yaml. Used by `make changelog-preview` and tests/integration/test_changelog.py.
set -euo pipefail
(($# == 1)) || { echo "usage: $0 OUTDIR" >&2; exit 2; }
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$(mkdir -p "$1" && cd "$1" && pwd)
BIN=${ANTSIBULL_CHANGELOG:-antsibull-changelog}
cd "$HERE"

lint=$("$BIN" lint 2>&1) || { echo "$lint" >&2; exit 1; }
if [[ -n $lint ]]; then
  echo "antsibull-changelog lint:" >&2
  echo "$lint" >&2
  exit 1
fi

rm -rf "$OUT/repo"
mkdir -p "$OUT/repo"
# What a release commit would see: tracked files plus new, not ignored ones (fragments not yet committed).
git ls-files -z --cached --others --exclude-standard |
  while IFS= read -r -d '' f; do [[ -e $f && ! -d $f ]] && printf '%s\0' "$f"; done |
  xargs -0 cp --parents -t "$OUT/repo"

VERSION=$(sed -n 's/^version: *//p' galaxy.yml | tr -d '"'"'"' ')
cd "$OUT/repo"
if grep -qE "^  ['\"]?${VERSION//./\\.}['\"]?:" changelogs/changelog.yaml; then
  "$BIN" generate
else
  # A fixed date keeps the preview reproducible; the real release takes today's.
  "$BIN" release --version "$VERSION" --date 2000-01-01
fi
cp CHANGELOG.rst changelogs/changelog.yaml "$OUT/"
echo "release notes for $VERSION: $OUT/CHANGELOG.rst"
