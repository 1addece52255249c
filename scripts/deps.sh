#!/usr/bin/env bash
# Installs the peer servers the harness and the tests drive — Debian's redis-server and
# etcd-server — and the headless chromium the report's browser test uses, when they are missing.
#
# Idempotent: present binaries are left alone and nothing is fetched. It runs `apt-get update`
# at most once, and only when something must be installed. It never fails its caller: when it
# cannot install (no apt-get, not root and no password-less sudo, no network), it says so and
# exits 0, and the harness then skips those backends with a clear line.
#
# The harness starts its own redis-server and etcd on free loopback ports, so the system
# services the packages would start are kept from starting (or stopped).
set -u
trap 'exit 0' EXIT

say() { echo "deps: $*"; }

need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v etcd >/dev/null 2>&1 || need+=(etcd-server)

# --- Python client (python/, `make test-python`): BEGIN ---
# Debian's interpreter and the packages the Python tests and the Python benchmark use (PyPI is
# not reachable; Debian's python3 sees them). Installed with the servers above, one apt-get update.
for pkg in python3 python3-setuptools python3-pip python3-pytest python3-redis python3-etcd3 \
  python3-fasteners python3-filelock; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
# --- Python client: END ---
# --- Chromium (added for the report's browser test) ---------------------------------------------
# reports' TestReportInBrowser loads report.html in Debian's headless chromium: no console errors,
# every plot drawn. Without it that one test is skipped with a clear message, nothing else.
# Installed with the servers above (one apt-get update); WWLY_NO_CHROMIUM=1 leaves it out.
if [ "${WWLY_NO_CHROMIUM:-}" != 1 ] && ! command -v chromium >/dev/null 2>&1 &&
  ! command -v chromium-browser >/dev/null 2>&1; then
  need+=(chromium)
fi
# --- end Chromium --------------------------------------------------------------------------------

report() {
  local v
  if command -v redis-server >/dev/null 2>&1; then
    v=$(redis-server --version 2>/dev/null | head -n1)
    say "redis-server: ${v:-present}"
  else
    say "redis-server: missing (backends redsync, redislock will be skipped)"
  fi
  if command -v etcd >/dev/null 2>&1; then
    v=$(etcd --version 2>/dev/null | head -n1)
    say "etcd: ${v:-present}"
  else
    say "etcd: missing (backend etcd will be skipped)"
  fi
}

if [ ${#need[@]} -eq 0 ]; then
  report
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  say "missing ${need[*]} and apt-get is not available; install them by hand"
  report
  exit 0
fi

sudo=()
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1; then
    sudo=(sudo -n)
  else
    say "missing ${need[*]}; installing needs root (or password-less sudo): sudo apt-get install ${need[*]}"
    report
    exit 0
  fi
fi

say "installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive

# Keep the packages' init scripts from starting system-wide servers (policy-rc.d exit 101 means
# "do not start"), unless the host already has its own policy.
policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e "$policy" ] && "${sudo[@]}" sh -c "printf '#!/bin/sh\nexit 101\n' > $policy && chmod 755 $policy" 2>/dev/null; then
  made_policy=1
fi

ok=1
if ! "${sudo[@]}" apt-get update -qq >/dev/null 2>&1; then
  say "apt-get update failed (no network?); trying the install from the current package lists"
fi
if ! "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null 2>&1; then
  ok=0
  say "apt-get could not install ${need[*]}"
fi

if [ "$made_policy" = 1 ]; then
  "${sudo[@]}" rm -f "$policy" 2>/dev/null
fi

# Where an init system started them anyway, stop them: the harness runs its own.
if [ "$ok" = 1 ]; then
  for svc in redis-server etcd; do
    if command -v systemctl >/dev/null 2>&1; then "${sudo[@]}" systemctl stop "$svc" >/dev/null 2>&1; fi
    if command -v service >/dev/null 2>&1; then "${sudo[@]}" service "$svc" stop >/dev/null 2>&1; fi
  done
  say "installed ${need[*]}"
fi
report
exit 0
