#!/usr/bin/env bash
# Starts the whole terminal under pm2-runtime in the foreground: the auth proxy,
# the terminal server and any extra apps, with their logs on stdout, each line
# named after its process. SIGTERM or SIGINT stops everything.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

given_home=${PM2_HOME:-}
ecosystem=$(node "$root/dist/supervisor/prepare.js")
PM2_HOME=$(dirname "$ecosystem")
export PM2_HOME
# The workshop's session.env and setup.d scripts; whatever happens there, the terminal starts.
node "$root/dist/supervisor/setup-workshop.js" || echo "supervisor: the workshop's setup failed (exit code $?); the terminal starts anyway" >&2

# pm2 would also check for a newer pm2 once a day, over the network: not from here.
export PM2_DISABLE_VERSION_CHECK=true
# --optimize-for-size: pm2-runtime only supervises and relays log lines; V8 keeps
# its heap smaller (about 2.5 MB less) at no cost measured in relaying logs.
FORCE_COLOR=0 node --optimize-for-size "$root/node_modules/pm2/bin/pm2-runtime" start "$ecosystem" --formatted &
runtime=$!
# shellcheck disable=SC2317 # called by the trap below
stop() { kill -TERM "$runtime" 2>/dev/null || true; }
trap stop TERM INT

# wait returns early when a trapped signal arrives: go on waiting until pm2-runtime
# has stopped everything, then take its exit code.
while kill -0 "$runtime" 2>/dev/null; do wait "$runtime" || true; done
status=0
wait "$runtime" || status=$?
# A pm2 folder made for this run goes with it; in one that was given, the link's folder does.
if [ -z "$given_home" ]; then rm -rf "$PM2_HOME"; else rm -rf "$PM2_HOME"/link-*; fi
exit "$status"
