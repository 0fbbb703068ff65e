#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# lint: functions banned from our C (git's banned.h list): strcpy, strcat, sprintf,
# vsprintf, strtok, gets, and their unbounded friends.
set -euo pipefail
cd "${KB_SOURCE_DIR:?}"
hits=$(git ls-files '*.c' '*.h' '*.cc' | xargs grep -nE '\b(strcpy|strcat|sprintf|vsprintf|strtok|gets|strncpy)\s*\(' | grep -vE 'snprintf|vsnprintf' || true)
if [ -n "$hits" ]; then
    echo "banned functions used:"
    echo "$hits"
    exit 1
fi
echo "no banned functions"
