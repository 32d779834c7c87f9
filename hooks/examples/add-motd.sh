#!/bin/sh
# filesystem-populated: $1 is the target root directory.
set -eu
target="$1"
printf 'This host was installed by the lab PXE service.\n' > "$target/etc/motd"
