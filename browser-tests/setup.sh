# Shared by .ci/browser and .ci/lighthouse (sourced from the repository root, not run): idempotent,
# non-interactive setup.
#
# browser_setup runtime|all
#   - installs Debian's chromium when /usr/bin/chromium is missing (no browser downloads by npm);
#   - checks for java (the Nu Html Checker runs on it);
#   - runs `npm ci` in browser-tests/ unless node_modules already matches package-lock.json
#     ("runtime" omits the devDependencies, i.e. Lighthouse; "all" installs them too);
#   - builds the release binary and sets TRUSTCARD to its path.

apt_install() {
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "$@"
}

browser_setup() {
  local mode="${1:-runtime}"

  if [ ! -x /usr/bin/chromium ]; then
    echo "== installing Debian's chromium"
    apt_install chromium
  fi
  if ! command -v java >/dev/null 2>&1; then
    echo "== installing a Java runtime for the Nu Html Checker"
    apt_install default-jre-headless
  fi

  # npm ci wipes node_modules every time; skip it when the stamp says the same lock file and an
  # install at least as complete as this mode needs is already there.
  local lock stamp have
  lock=$(sha256sum browser-tests/package-lock.json | cut -d' ' -f1)
  stamp=browser-tests/node_modules/.ci-stamp
  have=$(cat "$stamp" 2>/dev/null || true)
  if [ "$have" != "$lock all" ] && [ "$have" != "$lock $mode" ]; then
    echo "== npm ci in browser-tests/ ($mode)"
    local omit=()
    if [ "$mode" = runtime ]; then omit=(--omit=dev); fi
    # --ignore-scripts: vnu-jar's postinstall would download a Java runtime; the machine's is used.
    (cd browser-tests && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error "${omit[@]}")
    echo "$lock $mode" >"$stamp"
  fi

  echo "== release build"
  cargo build --release --quiet
  TRUSTCARD="${CARGO_TARGET_DIR:-target}/release/trustcard"
  export TRUSTCARD
}
