#!/bin/sh
# installation-complete: $1 is 0 on success, 1 on failure. Replace the URL with your own service.
set -u
status="$1"
curl -fsS --max-time 10 -d "host=$(cat /proc/sys/kernel/hostname)&status=$status" \
    "http://deploy.example.internal/installed" || echo "could not notify (status $status)"
