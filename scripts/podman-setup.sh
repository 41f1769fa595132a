#!/usr/bin/env bash
# Make podman able to build and run mediacheck's Dockerfile on a machine with no Docker engine and
# no reachable image registry: installs podman from Debian, makes runc the runtime with rlimits the
# host allows, and builds the base image debian:bookworm-slim locally with debootstrap.
# Idempotent: each step is skipped when already done. Needs root (or sudo) on Debian/Ubuntu.
#   scripts/podman-setup.sh          set up what is missing
#   scripts/podman-setup.sh --check  exit 0 if everything is in place, 1 otherwise (changes nothing)
set -euo pipefail

BASE_IMAGE=docker.io/library/debian:bookworm-slim
LOCAL_IMAGE=localhost/debian:bookworm
SUITE=bookworm
CONF=/etc/containers/containers.conf
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive

say() { printf 'podman-setup: %s\n' "$*" >&2; }

have_tools() { command -v podman >/dev/null && command -v runc >/dev/null && command -v debootstrap >/dev/null; }
have_conf() { [ -f "$CONF" ] && grep -q '^runtime *= *"runc"' "$CONF"; }
have_base() { command -v podman >/dev/null && podman image exists "$BASE_IMAGE"; }

if [ "${1:-}" = "--check" ]; then
  have_tools && have_conf && have_base && { say "ready"; exit 0; }
  say "not ready (run scripts/podman-setup.sh)"; exit 1
fi

if ! have_tools; then
  say "installing podman buildah debootstrap runc"
  $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
  $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq podman buildah debootstrap runc >/dev/null
fi

if ! have_conf; then
  # podman's default rlimits exceed the host's, and crun cannot run on this cgroup layout.
  say "writing $CONF (runc, host-sized rlimits)"
  $SUDO mkdir -p "$(dirname "$CONF")"
  [ -f "$CONF" ] && $SUDO cp "$CONF" "$CONF.bak-mediacheck"
  $SUDO tee "$CONF" >/dev/null <<'C'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
C
fi

if ! have_base; then
  if ! podman image exists "$LOCAL_IMAGE"; then
    # The first deb.debian.org URI the host's apt uses (deb822 or one-line format), else the default.
    mirror=$(grep -hoE 'https?://[^ ]*debian/?( |$)' /etc/apt/sources.list.d/*.sources \
               /etc/apt/sources.list.d/*.list /etc/apt/sources.list 2>/dev/null \
             | grep -v security | head -n1 | tr -d ' ' || true)
    mirror=${mirror:-http://deb.debian.org/debian}
    rootfs=$(mktemp -d /tmp/mediacheck-rootfs.XXXXXX)
    trap '$SUDO rm -rf "$rootfs"' EXIT
    say "debootstrap --variant=minbase $SUITE from $mirror (about a minute)"
    $SUDO debootstrap --variant=minbase "$SUITE" "$rootfs" "$mirror" >/dev/null
    # Slim it like the official -slim image: dpkg leaves out docs, man pages and translations
    # (for packages installed later too), apt keeps no downloaded .debs, no lists, no caches.
    $SUDO tee "$rootfs/etc/dpkg/dpkg.cfg.d/docker-slim" >/dev/null <<'D'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
D
    $SUDO tee "$rootfs/etc/apt/apt.conf.d/docker-clean" >/dev/null <<'D'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
D
    $SUDO find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
    $SUDO find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
    $SUDO rm -rf "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/lintian/*
    $SUDO find "$rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +
    $SUDO rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* "$rootfs"/var/log/*.log \
                 "$rootfs"/var/log/apt/* "$rootfs"/var/cache/debconf/*-old
    $SUDO tar -C "$rootfs" -c . | podman import -q - "$LOCAL_IMAGE" >/dev/null
  fi
  podman tag "$LOCAL_IMAGE" "$BASE_IMAGE"
fi
say "ready: $(podman --version), base image $BASE_IMAGE"
