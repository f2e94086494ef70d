#!/usr/bin/env bash
# Fetches flights-3m.parquet (3 million US domestic flights of 2006 — date, delay, distance, origin, destination) from the
# vega-datasets npm package (https://github.com/vega/vega-datasets, BSD-3-Clause) into samples/FlowGen.Streaming/data/,
# which git ignores. Needs npm (the registry client); about 13 MB.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
mkdir -p "$here/data"
if [ -f "$here/data/flights-3m.parquet" ]; then echo "already there: $here/data/flights-3m.parquet"; exit 0; fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack vega-datasets@3.2.1 --silent >/dev/null)
tar -xzf "$work"/vega-datasets-3.2.1.tgz -C "$work" package/data/flights-3m.parquet
mv "$work/package/data/flights-3m.parquet" "$here/data/flights-3m.parquet"
echo "fetched $here/data/flights-3m.parquet ($(stat -c %s "$here/data/flights-3m.parquet") bytes)"
