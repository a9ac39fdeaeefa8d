#!/usr/bin/env bash
# Builds the Debian package, installs it into this machine with dpkg, checks
# what a user gets (the binary, the man pages, the completions, the licence)
# and removes it again. Debian/Ubuntu only; root or sudo for apt/dpkg.
#
#   scripts/package-check.sh            # build, install, check, remove
#
# Needs cargo-deb (installed with `cargo install --locked cargo-deb` if
# missing), dpkg-dev (dpkg-shlibdeps: the Depends line) and man-db (`man -w`);
# the last two are installed with apt-get if missing.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)

fail() {
  echo "package-check: FAIL: $*" >&2
  exit 1
}

if dpkg-query -W -f='${Status}' ccsetup 2>/dev/null | grep -q "ok installed"; then
  fail "a ccsetup package is already installed here; remove it first (dpkg -r ccsetup)"
fi

missing=()
command -v dpkg-shlibdeps >/dev/null || missing+=(dpkg-dev)
command -v man >/dev/null || missing+=(man-db)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing: ${missing[*]}"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends "${missing[@]}" </dev/null
fi
command -v cargo-deb >/dev/null || cargo install --locked cargo-deb

version=$(cargo metadata --locked --format-version 1 --no-deps |
  python3 -c 'import json,sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"]=="ccsetup"))')

# --- build -------------------------------------------------------------------
cargo xtask dist-assets target/assets
# The dist profile: the same build as the release archives (= release).
deb=$(cargo deb --locked --profile dist | tail -n 1)
[ -f "$deb" ] || fail "cargo deb did not name a .deb (got: $deb)"
echo "package-check: $deb ($(stat -c %s "$deb") bytes)"

depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
echo "Suggests: $(dpkg-deb -f "$deb" Suggests)"
[[ "$depends" == *libc6* ]] || fail "Depends does not name libc6 (dpkg-shlibdeps missing?): '$depends'"

# --- install -----------------------------------------------------------------
installed=0
cleanup() {
  if [ "$installed" = 1 ]; then
    "${sudo[@]}" dpkg -r ccsetup >/dev/null || true
  fi
}
trap cleanup EXIT

# Debian's container images drop /usr/share/man/* through a dpkg path-exclude
# (/etc/dpkg/dpkg.cfg.d/docker); a later --path-include wins, so this installs
# our pages there as on any desktop without touching the machine's dpkg config.
"${sudo[@]}" dpkg --path-include='/usr/share/man/man1/ccsetup*' -i "$deb"
installed=1

# --- check -------------------------------------------------------------------
[ "$(command -v ccsetup)" = /usr/bin/ccsetup ] || fail "ccsetup on PATH is $(command -v ccsetup || echo nothing)"
got=$(/usr/bin/ccsetup --version)
[ "$got" = "ccsetup $version" ] || fail "ccsetup --version printed '$got', want 'ccsetup $version'"
echo "ok: $got"

page=$(man -w ccsetup) || fail "man -w ccsetup found no page"
[ "$page" = /usr/share/man/man1/ccsetup.1.gz ] || fail "man -w ccsetup: $page"
for cmd in init status token rotate link reset doctor demo completions; do
  man -w "ccsetup-$cmd" >/dev/null || fail "no man page ccsetup-$cmd"
done
MANWIDTH=100 man -P cat ccsetup 2>/dev/null | grep -q "ccsetup-doctor(1)" ||
  fail "man ccsetup does not render its command list"
echo "ok: man -w ccsetup -> $page (and one page per command)"

bash_completion=/usr/share/bash-completion/completions/ccsetup
[ -f "$bash_completion" ] || fail "$bash_completion missing"
# Complete "ccsetup do<TAB>" with the installed script, as bash-completion would.
offered=$(bash -c '
  source "$1"
  COMP_WORDS=(ccsetup do); COMP_CWORD=1; COMP_LINE="ccsetup do"; COMP_POINT=${#COMP_LINE}
  _ccsetup ccsetup do ccsetup
  printf "%s\n" "${COMPREPLY[@]}"' _ "$bash_completion")
grep -qx doctor <<<"$offered" || fail "bash completion of 'ccsetup do' offered: $offered"
echo "ok: $bash_completion completes 'ccsetup do' to doctor"

for f in /usr/share/zsh/vendor-completions/_ccsetup \
  /usr/share/fish/vendor_completions.d/ccsetup.fish \
  /usr/share/doc/ccsetup/copyright; do
  [ -s "$f" ] || fail "$f missing or empty"
done
grep -q "MIT License" /usr/share/doc/ccsetup/copyright || fail "copyright does not carry the MIT licence"
echo "ok: zsh and fish completions, /usr/share/doc/ccsetup/copyright"

# --- remove ------------------------------------------------------------------
"${sudo[@]}" dpkg -r ccsetup
installed=0
[ ! -e /usr/bin/ccsetup ] || fail "/usr/bin/ccsetup left after dpkg -r"
[ ! -e /usr/share/man/man1/ccsetup.1.gz ] || fail "man page left after dpkg -r"
echo "package-check: passed ($deb)"
