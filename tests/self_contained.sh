#!/bin/sh
# The repository is self-contained: no file refers to anything outside it — the
# notes folder beside the repository (its API and DESIGN notes) or the folders of
# the machine it was written on. Speaks TAP. (The patterns are written so that
# this file does not match them itself.)
cd "$(dirname "$0")/.." || exit 1
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  files=$(git ls-files)
else
  files=$(find . -type f -not -path './build*' -not -path './.git/*')
fi
echo "1..1"
hits=$(printf '%s\n' "$files" | tr '\n' '\0' |
  xargs -0 grep -I -n -e '\.\./shared' -e 'shared/\(API\|DESIGN\)\.md' -e '/wor[k]/' 2>/dev/null)
if [ -n "$hits" ]; then
  echo "not ok 1 - files refer to places outside the repository:"
  printf '%s\n' "$hits" | sed 's/^/#   /'
  exit 1
fi
echo "ok 1 - no file refers to anything outside the repository"
