#!/bin/sh
# Builds the local test image chopsticks-test:busybox without any registry: a root folder
# with busybox-static and a link per applet, imported with `docker import`.
# Idempotent: an existing image with the same content label is kept (fast path).
set -eu

IMAGE="${1:-chopsticks-test:busybox}"
BUSYBOX="${BUSYBOX:-/bin/busybox}"

if [ ! -x "$BUSYBOX" ]; then
  echo "make-test-image: $BUSYBOX not found; install it with: apt-get install -y busybox-static" >&2
  exit 1
fi
# The image is tied to the busybox binary it holds: rebuild when that changes.
STAMP="$(sha1sum "$BUSYBOX" | cut -c1-12)-v1"
if [ "$(docker image inspect -f '{{index .Config.Labels "chopsticks.image-stamp"}}' "$IMAGE" 2>/dev/null || true)" = "$STAMP" ]; then
  echo "$IMAGE"
  exit 0
fi

ROOT="$(mktemp -d)"
trap 'rm -rf "$ROOT"' EXIT INT TERM
mkdir -p "$ROOT/bin" "$ROOT/sbin" "$ROOT/usr/bin" "$ROOT/usr/sbin" "$ROOT/etc" "$ROOT/root" \
  "$ROOT/home/nobody" "$ROOT/var/tmp" "$ROOT/proc" "$ROOT/sys" "$ROOT/dev"
mkdir -m 1777 "$ROOT/tmp"
cp "$BUSYBOX" "$ROOT/bin/busybox"
chmod 0755 "$ROOT/bin/busybox"
for applet in $("$BUSYBOX" --list); do
  [ "$applet" = busybox ] && continue
  ln -sf busybox "$ROOT/bin/$applet"
done
cat >"$ROOT/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/home/nobody:/bin/sh
PASSWD
cat >"$ROOT/etc/group" <<'GROUP'
root:x:0:
nogroup:x:65534:
GROUP
chown 65534:65534 "$ROOT/home/nobody" 2>/dev/null || true
cat >"$ROOT/etc/os-release" <<'OSREL'
NAME="Chopsticks test (BusyBox)"
ID=busybox
VERSION_ID=1
PRETTY_NAME="Chopsticks test image (BusyBox)"
OSREL
echo chopsticks-test >"$ROOT/etc/hostname"

tar -C "$ROOT" -c . | docker import \
  -c 'CMD ["sh"]' \
  -c 'ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin' \
  -c "LABEL chopsticks.image-stamp=$STAMP" \
  - "$IMAGE" >/dev/null
echo "$IMAGE"
