#!/usr/bin/env bash
# Installs the peer servers the harness and the tests drive (Debian's redis-server and etcd-server)
# when they are missing. Idempotent. When it cannot install, it says so and exits 0: the harness
# then skips those backends with a clear line.
set -u
need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v etcd >/dev/null 2>&1 || need+=(etcd-server)
if [ ${#need[@]} -eq 0 ]; then
  echo "deps: redis-server and etcd present"
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "deps: missing ${need[*]} and cannot install (need root and apt-get); those backends will be skipped"
  exit 0
fi
echo "deps: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; }; then
  echo "deps: apt-get could not install ${need[*]}; those backends will be skipped"
  exit 0
fi
# The Debian packages start system services; the harness runs its own on free ports, so stop them.
for svc in redis-server etcd; do
  if command -v systemctl >/dev/null 2>&1; then systemctl stop "$svc" >/dev/null 2>&1 || true; fi
  if command -v service >/dev/null 2>&1; then service "$svc" stop >/dev/null 2>&1 || true; fi
done
echo "deps: installed ${need[*]}"
