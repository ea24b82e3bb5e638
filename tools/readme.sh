#!/bin/sh
# Regenerate what is generated from the configuration schema: the key table in README.md
# (between the config-table markers), conf/lxcscale.yaml and the lxcscale.yaml(5) manual
# page man/lxcscale.yaml.5. Run by `make readme`.
set -eu
cd "$(dirname "$0")/.."
BIN=${1:-build/lxcscaled}
table=$(mktemp)
trap 'rm -f "$table" README.md.tmp' EXIT
"$BIN" --print-config-table > "$table"
awk -v table="$table" '
	/<!-- config-table:begin -->/ { print; while ((getline l < table) > 0) print l; skip = 1; next }
	/<!-- config-table:end -->/ { skip = 0 }
	!skip { print }
' README.md > README.md.tmp
mv README.md.tmp README.md
"$BIN" --print-config-template > conf/lxcscale.yaml
"$BIN" --print-config-man > man/lxcscale.yaml.5
