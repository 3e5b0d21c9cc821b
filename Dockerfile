# workshop-terminal: a browser terminal and S2I builder image for workshops.
#   podman build -t workshop-terminal .           (or docker build)
#   podman build --build-arg INSTALL_CLIENTS=false …   (offline: no oc/kubectl)
ARG NODE_IMAGE=docker.io/library/node:24-trixie-slim

# ---- Build: compile TypeScript, bundle the page, build node-pty, drop dev dependencies.
FROM ${NODE_IMAGE} AS builder
# node-pty is a native addon: node-gyp needs Python, make and a C++ compiler.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.base.json tsconfig.json tsconfig.build.json ./
COPY common common
COPY terminal-server terminal-server
COPY auth-proxy auth-proxy
COPY dashboard dashboard
COPY editor editor
COPY room room
COPY supervisor supervisor
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# ---- Runtime files: what /opt/workshop gets from the build, and nothing the running terminal
# does not read. node-pty: its JavaScript and the addon it loads (build/Release/pty.node), not
# its C++ sources, build files or prebuilt addons for Windows and macOS (58 MB). The supervisor:
# start.sh (prepare.ts runs compiled, from dist). No TypeScript, no tests, and no source maps:
# the terminal server holds the page bundles' maps in memory (raw and gzipped, 7 MB) when they
# are there, for browsers' developer tools. Without the maps, stack traces in the logs name lines
# of the compiled .js (tsc keeps them close to the sources) rather than of the .ts.
FROM builder AS runtime
RUN set -eu; mkdir -p /runtime/supervisor /runtime/node_modules/node-pty/build/Release; \
    cp -a package.json dist /runtime/; \
    cp -a supervisor/start.sh supervisor/start-singleuser /runtime/supervisor/; \
    cp -a $(find node_modules -mindepth 1 -maxdepth 1 ! -name node-pty) /runtime/node_modules/; \
    cp -a node_modules/node-pty/package.json node_modules/node-pty/LICENSE node_modules/node-pty/lib \
      /runtime/node_modules/node-pty/; \
    cp -a node_modules/node-pty/build/Release/pty.node /runtime/node_modules/node-pty/build/Release/; \
    find /runtime/node_modules/node-pty/lib -name '*.test.js' -delete; \
    find /runtime \( -name '*.map' -o -name '*.ts' -o -name '*.mts' -o -name '*.cts' \) -type f -delete

# ---- Clients: oc and kubectl from their official download sites, several versions for the
# wrappers (shell/bin/cluster-client), each checked against its published checksum.
FROM ${NODE_IMAGE} AS clients
ARG INSTALL_CLIENTS=true
ARG OC_VERSIONS="4.14.38 4.16.24 4.18.1"
ARG KUBECTL_VERSIONS="1.29.10 1.31.4"
ARG OC_MIRROR=https://mirror.openshift.com/pub/openshift-v4/x86_64/clients/ocp
ARG KUBECTL_MIRROR=https://dl.k8s.io/release
RUN set -eu; mkdir -p /clients; \
    if [ "$INSTALL_CLIENTS" != "true" ]; then echo "oc and kubectl skipped (INSTALL_CLIENTS=$INSTALL_CLIENTS)"; exit 0; fi; \
    apt-get update; apt-get install -y --no-install-recommends curl ca-certificates; \
    for v in $OC_VERSIONS; do \
      short=$(echo "$v" | cut -d. -f1,2); mkdir -p "/clients/oc/$short" /tmp/oc; cd /tmp/oc; \
      curl -fsSLO "$OC_MIRROR/$v/openshift-client-linux-$v.tar.gz"; \
      curl -fsSL "$OC_MIRROR/$v/sha256sum.txt" | grep " openshift-client-linux-$v.tar.gz\$" | sha256sum -c -; \
      tar -xzf "openshift-client-linux-$v.tar.gz" oc; mv oc "/clients/oc/$short/oc"; cd /; rm -rf /tmp/oc; \
    done; \
    for v in $KUBECTL_VERSIONS; do \
      short=$(echo "$v" | cut -d. -f1,2); mkdir -p "/clients/kubectl/$short"; \
      curl -fsSL -o "/clients/kubectl/$short/kubectl" "$KUBECTL_MIRROR/v$v/bin/linux/amd64/kubectl"; \
      echo "$(curl -fsSL "$KUBECTL_MIRROR/v$v/bin/linux/amd64/kubectl.sha256")  /clients/kubectl/$short/kubectl" | sha256sum -c -; \
      chmod 755 "/clients/kubectl/$short/kubectl"; \
    done

# ---- The image.
FROM ${NODE_IMAGE}
ARG DEBIAN_FRONTEND=noninteractive
# Slim images have no man folders; the Java packages' alternatives need this one.
RUN mkdir -p /usr/share/man/man1 \
 && apt-get update \
 && apt-get install -y --no-install-recommends \
      git vim nano curl wget jq less tmux bash-completion procps \
      python3 python3-pip python3-venv openjdk-21-jdk-headless maven ca-certificates \
 # Fonts for what runs a browser here (screenshots, tests): Latin, CJK (with a monospace face) and
 # symbols, about 11 MB; the pages name the same families first (terminal-view.ts, dashboard.css).
      fonts-dejavu-core fonts-wqy-microhei fonts-symbola \
 # No package lists or downloaded packages left behind (the official base images' apt
 # configuration deletes the .debs as it goes; other bases keep them, hundreds of MB).
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/log/apt/* /var/log/dpkg.log /var/cache/debconf/*-old \
 # No way to become root: no sudo, and no set-user-ID programs (su, passwd, mount, ...).
 && find / -xdev -perm -4000 -type f -exec chmod u-s {} + \
 # OpenShift runs the image as an arbitrary UID in group 0: s2i/bin/run adds its passwd entry.
 && chmod g=u /etc/passwd

COPY --from=runtime /runtime /opt/workshop
COPY shell /opt/workshop/shell
COPY image/etc /opt/workshop/etc
COPY image/bin /opt/workshop/bin
COPY s2i/bin /usr/libexec/s2i
COPY --from=clients /clients /opt/workshop/clients

RUN mkdir -p /opt/app-root/src /opt/app-root/bin /opt/app-root/etc/profile.d /opt/app-root/etc/init.d /opt/app-root/etc/pm2 \
 # Every shell loads the workshop environment: login shells through /etc/profile.d,
 # interactive ones through bash.bashrc, the rest through BASH_ENV and ENV (below).
 && ln -s /opt/workshop/etc/profile /etc/profile.d/workshop.sh \
 && echo '. /opt/workshop/etc/profile' >> /etc/bash.bashrc \
 && ln -s /usr/libexec/s2i/run /usr/local/bin/start-singleuser \
 && chown -R 1001:0 /opt/app-root \
 && chmod -R g=u /opt/app-root

ENV HOME=/opt/app-root/src \
    PATH=/opt/app-root/bin:/opt/workshop/shell/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    BASH_ENV=/opt/workshop/etc/profile \
    ENV=/opt/workshop/etc/profile \
    LANG=C.UTF-8 \
    HOST=0.0.0.0 \
    PORT=10080 \
    TRUST_PROXY=loopback,uniquelocal \
    PM2_APPS_DIR=/opt/app-root/etc/pm2 \
    WORKSHOP_CLIENTS_DIR=/opt/workshop/clients

LABEL io.k8s.description="A terminal in the browser for workshops, and an S2I builder for workshop images" \
      io.k8s.display-name="Workshop Terminal" \
      io.openshift.s2i.scripts-url="image:///usr/libexec/s2i" \
      io.openshift.expose-services="10080:http" \
      io.openshift.tags="builder,workshop,terminal,butterfly" \
      org.opencontainers.image.title="workshop-terminal" \
      org.opencontainers.image.description="A terminal in the browser for workshops, and an S2I builder for workshop images" \
      org.opencontainers.image.licenses="Apache-2.0"

WORKDIR /opt/app-root/src
USER 1001
EXPOSE 10080
CMD ["/usr/libexec/s2i/run"]
