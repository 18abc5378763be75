#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine, builds bonafide and runs the web
# service. This is the README's "run the service" command.
#
#   BONAFIDE_DATA            data folder (default ./data)
#   BONAFIDE_ADDR            listen address (default 127.0.0.1:8080)
#   BONAFIDE_ADMIN_EMAIL     the first admin account (default admin@localhost)
#   BONAFIDE_ADMIN_PASSWORD  its password (default: generated and printed once)
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
export PATH=$PATH:/usr/local/go/bin
go build -o bonafide ./cmd/bonafide
DATA=${BONAFIDE_DATA:-./data}
ADDR=${BONAFIDE_ADDR:-127.0.0.1:8080}
mkdir -p "$DATA"
if [ ! -e "$DATA/.admin-created" ]; then
  EMAIL=${BONAFIDE_ADMIN_EMAIL:-admin@localhost}
  PASSWORD=${BONAFIDE_ADMIN_PASSWORD:-$(head -c 18 /dev/urandom | base64 | tr -d '/+=')}
  printf '%s\n' "$PASSWORD" | ./bonafide user add --data "$DATA" --email "$EMAIL" --role admin --password-stdin
  touch "$DATA/.admin-created"
  if [ -z "${BONAFIDE_ADMIN_PASSWORD:-}" ]; then
    echo "Created admin account $EMAIL with password: $PASSWORD (shown once)"
  fi
fi
echo "bonafide is starting on http://$ADDR/"
exec ./bonafide serve --data "$DATA" --addr "$ADDR"
