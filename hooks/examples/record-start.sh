#!/bin/sh
# installation-start: record when the install began and which disks the machine had.
set -eu
echo "install started $(date -u +%Y-%m-%dT%H:%M:%SZ)"
lsblk -dno NAME,SIZE,MODEL || true
