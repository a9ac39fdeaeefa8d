#!/usr/bin/env bash
# Runs inside `dbus-run-session` (see tests/secret_service.rs): starts an
# unlocked gnome-keyring-daemon (secrets component only) on the private
# session bus, waits until it owns org.freedesktop.secrets, then runs "$@"
# and stops the daemon again. The caller gives private XDG_* dirs, so the
# keyring files live in a temp dir, never in the real home.
#
# With CCSETUP_SS_NO_PROVIDER=1 no keyring is started (a bus without a
# Secret Service); with CCSETUP_SS_LOCKED=1 the daemon is started but its
# keyring is not unlocked.
set -euo pipefail

log="${XDG_RUNTIME_DIR:?XDG_RUNTIME_DIR must be set}/gnome-keyring.log"

bus_query() {
  dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    "org.freedesktop.DBus.$1" "string:org.freedesktop.secrets" 2>/dev/null
}

if [ "${CCSETUP_SS_NO_PROVIDER:-}" != 1 ]; then
  if [ "${CCSETUP_SS_LOCKED:-}" = 1 ]; then
    out=$(gnome-keyring-daemon --start --components=secrets 2>>"$log") || {
      echo "gnome-keyring-daemon --start failed:" >&2; cat "$log" >&2; exit 97; }
  else
    # This password only unlocks the throwaway keyring of this test run.
    out=$(printf '%s' 'ccsetup-test-keyring' \
      | gnome-keyring-daemon --unlock --components=secrets 2>>"$log") || {
      echo "gnome-keyring-daemon --unlock failed:" >&2; cat "$log" >&2; exit 97; }
  fi
  eval "$out"
  if [ -n "${GNOME_KEYRING_CONTROL:-}" ]; then export GNOME_KEYRING_CONTROL; fi

  # --unlock returns before the name is owned; a client calling too early
  # would trigger D-Bus activation of a second daemon.
  ready=
  for _ in $(seq 100); do
    if bus_query NameHasOwner | grep -q 'boolean true'; then ready=1; break; fi
    sleep 0.05
  done
  if [ -z "$ready" ]; then
    echo "org.freedesktop.secrets was not owned on the bus after 5 s" >&2
    cat "$log" >&2
    exit 98
  fi
  daemon_pid=$(bus_query GetConnectionUnixProcessID | awk '/uint32/ {print $2}')
fi

set +e
"$@"
rc=$?
set -e

if [ -n "${daemon_pid:-}" ]; then kill "$daemon_pid" 2>/dev/null || true; fi
exit "$rc"
