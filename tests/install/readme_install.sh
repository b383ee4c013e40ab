#!/bin/bash
# readme_install.sh - does what README.md's "From clone to first chart" says, word for
# word, in a scratch folder, and checks the outcome (ctest: install_readme_user and
# install_readme_root).
#
#   readme_install.sh user|root SOURCE_DIR BUILD_DIR WORK_DIR
#
# The README marks its blocks with HTML comments read here:
#   <!-- readme-test: user -->   the install without root (run in the source tree)
#   <!-- readme-test: root -->   the install as root (run in the source tree)
#   <!-- readme-test: file F --> the next block is the file F of the user's project
#   <!-- readme-test: run -->    commands run in that project, in order
# The clone itself is not repeated: the commands run in SOURCE_DIR, and `make` uses the
# build tree BUILD_DIR (through the Makefile's BUILD_DIR variable) instead of building a
# second one. Everything runs under `env -i` with a plain PATH and HOME set to a scratch
# folder: no LD_LIBRARY_PATH, PKG_CONFIG_PATH or CMAKE_PREFIX_PATH but what the README
# itself exports.
#
# user: PREFIX=$HOME/.local with that scratch HOME.
# root: the default PREFIX /usr/local, with ldconfig, inside a private mount namespace
#   where /usr/local and /etc are copy-on-write overlays thrown away at the end, so this
#   machine is left unchanged. Skipped (exit 77) when not root or when the namespace or
#   the overlays cannot be made.
set -eu -o pipefail

flavor=$1 src=$2 build=$3 work=$4
case "$flavor" in user | root) ;; *)
  echo "usage: $0 user|root SOURCE_DIR BUILD_DIR WORK_DIR" >&2
  exit 2
  ;;
esac

fail() {
  echo "readme_install: FAIL: $*" >&2
  exit 1
}
skip() {
  echo "readme_install: SKIP: $*"
  exit 77
}

if [ "$flavor" = root ]; then
  [ "$(id -u)" -eq 0 ] || skip "the root install writes /usr/local and runs ldconfig: run as root"
  command -v unshare >/dev/null || skip "unshare (util-linux) is needed to sandbox /usr/local"
fi

rm -rf "$work"
mkdir -p "$work/blocks/files" "$work/home" "$work/myapp"

# Splits README.md into the marked blocks.
awk -v dir="$work/blocks" '
  /^<!-- readme-test: / { kind = $3; file = ($4 == "-->") ? "" : $4; next }
  /^```/ {
    if (inblock) { inblock = 0; kind = ""; next }
    if (kind != "") {
      inblock = 1
      out = (kind == "file") ? dir "/files/" file : dir "/" kind ".sh"
      if (kind == "file") printf "" > out
      next
    }
  }
  inblock { print >> out }
' "$src/README.md"

for f in user.sh root.sh run.sh files/app.c files/app.cpp files/CMakeLists.txt files/charts.c; do
  [ -s "$work/blocks/$f" ] || fail "README.md has no block for $f"
done
grep -q "make install" "$work/blocks/$flavor.sh" || fail "the $flavor block does not run make install"
cp "$work/blocks/files/"* "$work/myapp/"

# The whole session: the install block, then the project's commands, then the checks.
# shellcheck disable=SC2016 # $HOME is expanded in the session, whose HOME is the scratch one
if [ "$flavor" = user ]; then prefix='$HOME/.local'; else prefix=/usr/local; fi
cat >"$work/session.sh" <<SESSION
set -e -o pipefail
cd "$src"
echo "+ README ($flavor install):"; cat "$work/blocks/$flavor.sh"
. "$work/blocks/$flavor.sh"
cd "$work/myapp"
echo "+ README (project):"; cat "$work/blocks/run.sh"
. "$work/blocks/run.sh"
prefix=$prefix
. "$src/tests/install/readme_checks.sh"
SESSION

run_session() {
  env -i HOME="$work/home" PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 BUILD_DIR="$build" JOBS=2 FLAVOR="$flavor" bash "$work/session.sh"
}

if [ "$flavor" = user ]; then
  run_session
  exit 0
fi

# root: copy-on-write /usr/local and /etc (ldconfig writes /etc/ld.so.cache) in a
# mount namespace of our own; the upper layers live in a scratch folder of /tmp (an
# overlay's upper layer cannot be on an overlay, which the build tree may be).
ov=$(mktemp -d /tmp/pb_readme_root.XXXXXX)
trap 'rm -rf "$ov"' EXIT
mkdir -p "$ov/local/up" "$ov/local/work" "$ov/etc/up" "$ov/etc/work"
probe="mount -t overlay overlay -o lowerdir=/usr/local,upperdir=$ov/local/up,workdir=$ov/local/work /usr/local"
if ! unshare -m sh -c "$probe" 2>"$ov/probe.err"; then
  skip "no private mount namespace with overlayfs here ($(head -c 200 "$ov/probe.err")): cannot sandbox /usr/local"
fi
rm -rf "$ov/local/up" "$ov/local/work" && mkdir -p "$ov/local/up" "$ov/local/work"
export -f run_session
export work flavor build
unshare -m bash -c "
  set -e
  mount -t overlay overlay -o lowerdir=/usr/local,upperdir=$ov/local/up,workdir=$ov/local/work /usr/local
  mount -t overlay overlay -o lowerdir=/etc,upperdir=$ov/etc/up,workdir=$ov/etc/work /etc
  run_session"
