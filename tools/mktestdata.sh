#!/bin/sh
# Writes the test boot module: 10000 bytes, byte i = (i * 7 + 3) mod 256.
# tests/kernel/test_boot.c checks every byte.
LC_ALL=C awk 'BEGIN { for (i = 0; i < 10000; i++) printf "%c", (i * 7 + 3) % 256 }'
