#!/usr/bin/env bash
# Installs what the Route-1 integration run (scripts/integration.mjs) needs:
# code-server 4.100.3 (= VS Code 1.100.3, the last release accepting Node 20) into a
# git-ignored prefix, plus Debian's chromium for playwright-core and ripgrep for the
# ripgrep download cache. Idempotent: every step is skipped when already done.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VERSION="4.100.3"
PREFIX="$ROOT/.vscode-test/code-server"
ENTRY="$PREFIX/node_modules/code-server/out/node/entry.js"
# Written by code-server's postinstall (its nested `npm install` in lib/vscode): proof the
# native part of the install really ran, not only the unpacking.
RG="$PREFIX/node_modules/code-server/lib/vscode/node_modules/@vscode/ripgrep/bin/rg"

log() { printf '[install-code-server] %s\n' "$*"; }

NODE_MAJOR="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$NODE_MAJOR" != "20" ]; then
  log "warning: code-server $VERSION requires Node 20 (found $(node -v)); its postinstall may refuse to run."
fi

# Debian packages: toolchain and headers for node-pty / native keymap / kerberos builds,
# ripgrep (seeds the cache below), chromium (driven by playwright-core) and zstd (unpacks the
# real QEMU snapshot the walk tests use).
PKGS=(build-essential python3 pkg-config libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev ripgrep chromium zstd)
MISSING=()
for p in "${PKGS[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || MISSING+=("$p")
done
if [ "${#MISSING[@]}" -gt 0 ]; then
  log "apt-get install ${MISSING[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${MISSING[@]}"
else
  log "Debian packages already present"
fi

# @vscode/ripgrep's postinstall downloads rg from GitHub unless this cached archive exists.
CACHE="$(node -p 'require("os").tmpdir()')/vscode-ripgrep-cache-1.15.11"
ARCHIVE="$CACHE/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz"
if [ ! -s "$ARCHIVE" ]; then
  log "seeding ripgrep cache $ARCHIVE"
  mkdir -p "$CACHE"
  tar -czf "$ARCHIVE" -C "$(dirname "$(command -v rg)")" rg
fi

if [ -f "$ENTRY" ] && [ -x "$RG" ] && [ "$(node -p "require('$PREFIX/node_modules/code-server/package.json').version")" = "$VERSION" ]; then
  log "code-server $VERSION already installed in $PREFIX"
  exit 0
fi

# node-gyp downloads Node's headers from nodejs.org unless told where they are: use the ones
# installed with Node itself when present (Debian's nodejs, NodeSource and the official tarballs
# all ship include/node), so the native builds need no network beyond the npm registry.
if [ -z "${npm_config_nodedir:-}" ]; then
  NODE_PREFIX="$(node -p 'require("path").resolve(process.execPath, "../..")')"
  if [ -f "$NODE_PREFIX/include/node/node.h" ]; then
    export npm_config_nodedir="$NODE_PREFIX"
    log "node-gyp uses the headers in $NODE_PREFIX/include/node"
  fi
fi

mkdir -p "$PREFIX"
# A private package.json keeps npm from walking up into the project's own manifest.
[ -f "$PREFIX/package.json" ] || echo '{"name":"code-server-prefix","private":true}' > "$PREFIX/package.json"
log "npm install code-server@$VERSION into $PREFIX (native build, ~10 min on 2 cores)"
START=$(date +%s)
# unsafe_perm: the postinstall refuses to run as root otherwise; yes: node-pty's `npx node-gyp`
# would otherwise wait for a confirmation. npm >= 11.x blocks dependency install scripts unless
# approved, and code-server is nothing but its postinstall (which runs a nested npm install of
# VS Code's own pinned dependencies with native builds), so scripts are allowed for this
# throw-away prefix only, through the environment so that the nested install inherits it.
npm_config_unsafe_perm=true npm_config_yes=true npm_config_dangerously_allow_all_scripts=true \
  npm install --prefix "$PREFIX" --no-audit --no-fund "code-server@$VERSION"
log "done in $(( $(date +%s) - START )) s"
[ -f "$ENTRY" ] || { log "error: $ENTRY missing after install"; exit 1; }
[ -x "$RG" ] || { log "error: code-server's postinstall did not complete ($RG missing); see the npm output above"; exit 1; }
