#!/usr/bin/env bash
# Runs "$@" with a Secret Service for the tests: gnome-keyring, unlocked with a fixed password, on
# the private D-Bus session bus this is started in (scripts/test, with lib/dbus-session.conf).
#
# Debian 12's gnome-keyring-daemon now and then dies of a GLib assertion under the tests' load
# (the kernel log shows "gnome-keyring-d ... trap int3 ... in libglib"). On a stock session bus,
# the next keychain call would then start a new daemon on demand, whose login keyring is locked:
# every call after it fails with "unlock prompt was dismissed", whichever test makes it. So the bus
# starts nothing on demand, and the daemon runs in the foreground under a loop that starts it again,
# unlocked, on the same keyring files (entries are kept), and says so on stderr.
set -uo pipefail
password=medrelay-test

secret_service_up() {
  dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q 'boolean true'
}

(
  while :; do
    echo -n "$password" | gnome-keyring-daemon --foreground --unlock --components=secrets >/dev/null
    echo "keyring.sh: gnome-keyring-daemon exited (status ${PIPESTATUS[1]}); starting it again" >&2
    sleep 0.1
  done
) &
supervisor=$!

for _ in $(seq 1 200); do secret_service_up && break; sleep 0.05; done
if ! secret_service_up; then
  kill "$supervisor" 2>/dev/null
  echo "keyring.sh: gnome-keyring-daemon did not come up on the session bus" >&2
  exit 1
fi

"$@"
status=$?
# Stop the loop before the bus goes away, or it would start the daemon again and again; the
# daemon itself ends with the bus (dbus-run-session stops it once this script exits).
kill "$supervisor" 2>/dev/null
exit "$status"
