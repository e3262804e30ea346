#!/usr/bin/env bash
# The editor's integration runs from scratch, for CI (called from .ci/run after `npm ci` and
# `npm test`): installs code-server 4.100.3 with Debian's chromium, ripgrep, zstd and the native
# build toolchain (scripts/install-code-server.sh, idempotent), then scripts/integration.mjs
# builds the extension and its test module, packs the VSIX with @vscode/vsce and runs the Mocha
# suite twice in code-server: from the source folder and from the installed VSIX.
# Exits non-zero when anything fails. Needs root or sudo for apt-get on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."

START=$(date +%s)
step() { printf '\n[ci-integration +%ss] %s\n' "$(( $(date +%s) - START ))" "$*"; }

if [ ! -d node_modules/playwright-core ] || [ ! -d node_modules/@vscode/vsce ]; then
  step "npm ci (node_modules incomplete)"
  npm ci --no-audit --no-fund
fi

step "installing code-server 4.100.3, chromium, ripgrep, zstd"
bash scripts/install-code-server.sh

step "build, package, dev run and VSIX run"
status=0
node scripts/integration.mjs || status=$?

step "done: exit ${status}, total $(( $(date +%s) - START )) s"
exit "$status"
