#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine and runs every test. This is the README's
# test command and what CI runs (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
export PATH=$PATH:/usr/local/go/bin
go vet ./...
# Static checks (the module proxy serves the tool; nothing is installed).
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
# Every test runs under the race detector (about twice as long; CI allows
# 90 minutes and the whole script takes about 13 on two cores).
go test -race -count=1 -timeout 60m ./...
# C memory: every gocv Mat allocated by the pipeline must be closed.
go test -count=1 -tags matprofile -run 'MatLeak' ./...
