# Shared by scripts/test and scripts/lab: make ./.venv and install nbgrad into it with the given
# extras, skipping pip when pyproject.toml has not changed since the last install.
ensure_venv() {
  local extras="$1"
  local py="${PYTHON:-python3}"
  if [ ! -x .venv/bin/python ]; then
    "$py" -m venv .venv
    .venv/bin/python -m pip install -q --upgrade pip
  fi
  local stamp=".venv/.nbgrad-installed-$(cat pyproject.toml | sha1sum | cut -c1-12)-${extras//,/-}"
  if [ ! -f "$stamp" ]; then
    .venv/bin/python -m pip install -q -e ".[${extras}]"
    touch "$stamp"
  fi
}

# Build the JupyterLab extension (labextension/ -> labextension/dist/) when its sources
# changed since the last build, and link it into the venv's share/jupyter/labextensions, where
# JupyterLab (and nbgrad.widgets' detection) find it. Needs Node.js and npm; without them the
# widgets show their static fallbacks and the browser test is skipped.
ensure_labextension() {
  if ! command -v npm > /dev/null || ! command -v node > /dev/null; then
    echo "note: Node.js/npm not found: the JupyterLab extension is not built (widgets fall back" \
         "to static output)" >&2
    return 0
  fi
  local sources
  sources=$( (cd labextension &&
               cat package.json package-lock.json install.json tsconfig*.json \
                   ../widgets/frontend.json &&
               find src style -type f | sort | xargs cat) | sha1sum | cut -c1-12)
  local stamp="labextension/dist/.built-$sources"
  if [ ! -f "$stamp" ]; then
    local lock
    lock="node_modules/.nbgrad-lock-$(sha1sum < labextension/package-lock.json | cut -c1-12)"
    (cd labextension &&
     { [ -f "$lock" ] || { npm ci --no-audit --no-fund --loglevel=error && touch "$lock"; }; } &&
     PATH="$PWD/../.venv/bin:$PATH" npm run --silent build > /dev/null)
    rm -f labextension/dist/.built-*
    touch "$stamp"
  fi
  local target=".venv/share/jupyter/labextensions/nbgrad-widgets"
  mkdir -p "$(dirname "$target")"
  ln -sfn "$PWD/labextension/dist" "$target"
}
