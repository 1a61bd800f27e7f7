#!/usr/bin/env bash
# Installs the outside programs the test suite talks to, when they are missing
# and this machine can install them (Debian, running as root). Where it cannot,
# it says so loudly; the tests that need the program then skip with their own
# loud line naming it. Nothing here is required for the suite to run.
set -u

need=()
command -v nats-server >/dev/null 2>&1 || [ -x /usr/sbin/nats-server ] || need+=(nats-server)
command -v etcd >/dev/null 2>&1 || need+=(etcd-server)
command -v etcdctl >/dev/null 2>&1 || need+=(etcd-client)

if [ ${#need[@]} -eq 0 ]; then
  echo "ensure-tools: nats-server, etcd and etcdctl are installed"
  exit 0
fi

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "ensure-tools: installing ${need[*]} from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  if timeout 600 apt-get update -qq >/dev/null 2>&1 &&
    timeout 600 apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null 2>&1; then
    # The etcd-server package starts a system etcd on 2379/2380; tests start
    # their own members on free ports, so stop it to leave the defaults free.
    if command -v systemctl >/dev/null 2>&1; then systemctl stop etcd >/dev/null 2>&1 || true; fi
    pkill -x etcd >/dev/null 2>&1 || true
    echo "ensure-tools: installed ${need[*]}"
    exit 0
  fi
fi

echo "!!! ensure-tools: could not install ${need[*]} (need root and apt-get);"
echo "!!! the tests that need them will be SKIPPED and say so."
exit 0
