#!/bin/sh
# postgres recipe: the layout and defaults of the official postgres:17 (Debian) image.
set -eu
root="$1"
major=17
# No cluster of Debian's own (the entrypoint runs initdb into $PGDATA).
rm -rf "$root/etc/postgresql/$major" "$root/var/lib/postgresql/$major"
# UTF-8 by default, as the official image: the en_US.UTF-8 locale, then the locale sources go.
echo 'en_US.UTF-8 UTF-8' >"$root/etc/locale.gen"
chroot "$root" locale-gen >/dev/null
chroot "$root" locale -a | grep -qx 'en_US.utf8'
rm -rf "$root/usr/share/i18n/charmaps" "$root/usr/share/i18n/locales"
# JIT left out: its LLVM is 140 MB of the image; without the provider PostgreSQL runs with
# jit unavailable (queries plan and run the same, without JIT compilation).
rm -rf "$root/usr/lib/postgresql/$major/lib/llvmjit.so" "$root/usr/lib/postgresql/$major/lib/llvmjit_types.bc" \
  "$root/usr/lib/postgresql/$major/lib/bitcode"
chroot "$root" dpkg --purge --force-depends libllvm19 libz3-4 >/dev/null
# ssl-cert's snakeoil key pair is made at install: a private key every container of the image
# would share, and a different one per build. Nothing here uses it (initdb writes ssl = off).
rm -f "$root/etc/ssl/private/ssl-cert-snakeoil.key" "$root/etc/ssl/certs/ssl-cert-snakeoil.pem"
find "$root/etc/ssl/certs" -xtype l -delete
# Listen on every address by default (the sample initdb copies into postgresql.conf).
sed -ri "s!^#?(listen_addresses)\s*=\s*\S+.*!\1 = '*'!" "$root/usr/share/postgresql/$major/postgresql.conf.sample"
grep -qF "listen_addresses = '*'" "$root/usr/share/postgresql/$major/postgresql.conf.sample"
# Directories and modes of the official image (1777/3777: any --user can use them).
install -d -o 999 -g 999 -m 1777 "$root/var/lib/postgresql" "$root/var/lib/postgresql/data"
# /var/run is a symlink to /run: name the real path (through the link it would be the host's).
install -d -o 999 -g 999 -m 3777 "$root/run/postgresql"
install -d -m 755 "$root/docker-entrypoint-initdb.d"
chmod 755 "$root/usr/local/bin/docker-entrypoint.sh"
ln -sfT docker-entrypoint.sh "$root/usr/local/bin/docker-ensure-initdb.sh"
ln -sfT docker-entrypoint.sh "$root/usr/local/bin/docker-enforce-initdb.sh"
chroot "$root" "/usr/lib/postgresql/$major/bin/postgres" --version
chroot "$root" gosu nobody true
