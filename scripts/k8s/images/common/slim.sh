#!/bin/sh
# mmdebstrap customize hook, last: drops what a container never reads (documentation, man
# pages, translations, caches, logs, apt state) so the image stays small. The dpkg path
# excludes in images.mjs keep most of it out already; this catches what maintainer scripts made.
set -eu
root="$1"
find "$root/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete 2>/dev/null || true
find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
rm -rf "$root/usr/share/man" "$root/usr/share/info" "$root/usr/share/lintian" "$root/usr/share/linda" \
  "$root/usr/share/bug" "$root/usr/share/menu"
# Translations, except locale.alias (localedef reads it).
find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} + 2>/dev/null || true
# apt's package lists and caches (mmdebstrap used them; the image has no apt).
rm -rf "$root/var/lib/apt/lists/"* "$root/var/cache/apt/"*.bin "$root/var/cache/apt/archives/"*.deb
rm -rf "$root/var/cache/debconf"/*-old "$root/var/cache/ldconfig/aux-cache"
find "$root/var/log" -type f -delete
find "$root/var/lib/dpkg" -maxdepth 1 -name '*-old' -delete
find "$root/usr" -name '__pycache__' -type d -prune -exec rm -rf {} +
# Written per container by the runtime (hostname, hosts, resolv.conf) or per boot (machine-id).
: >"$root/etc/machine-id" 2>/dev/null || true
rm -f "$root/etc/ssh/ssh_host_"* "$root/etc/hostname"
rm -rf "$root/tmp/"* "$root/var/tmp/"*
