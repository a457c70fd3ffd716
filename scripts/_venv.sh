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
