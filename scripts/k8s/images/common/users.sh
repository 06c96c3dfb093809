#!/bin/sh
# mmdebstrap essential hook: adds an image's users with the official image's fixed uid/gid
# before any package's maintainer script runs, so packages that create their user
# (postgresql-common, redis-server, rabbitmq-server) find it and keep its ids.
#   users.sh ROOTFS USERS_FILE      (lines: name uid gid home shell)
set -eu
root="$1"
while read -r name uid gid home shell; do
  case "$name" in '' | '#'*) continue ;; esac
  grep -q "^$name:" "$root/etc/group" || echo "$name:x:$gid:" >>"$root/etc/group"
  grep -q "^$name:" "$root/etc/gshadow" 2>/dev/null || echo "$name:!::" >>"$root/etc/gshadow"
  grep -q "^$name:" "$root/etc/passwd" || echo "$name:x:$uid:$gid::$home:$shell" >>"$root/etc/passwd"
  grep -q "^$name:" "$root/etc/shadow" 2>/dev/null || echo "$name:!:20000::::::" >>"$root/etc/shadow"
done <"$2"
