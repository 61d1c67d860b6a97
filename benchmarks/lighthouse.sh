#!/bin/sh
# Lighthouse (performance, accessibility, best practices, SEO) over the pages
# issue 5 names, against a site served like production (DEBUG off, gunicorn,
# WhiteNoise, PostgreSQL; see `make serve` and benchmarks/ensure_thread.py).
#
#   benchmarks/lighthouse.sh [BASE_URL]        default http://127.0.0.1:8201
#
# Five runs: the front page (mobile, desktop), the seed article (mobile,
# desktop), the big-thread article (mobile). Prints the four scores of each and
# every audit that scored below 1, with its weight in the category score (0 for
# diagnostics and insights) and the elements it names. Reports (JSON and
# HTML) go to $LIGHTHOUSE_OUT (default artifacts/lighthouse/). REPEAT=2 runs
# each audit twice (performance varies on a busy machine); BIG_SLUG names the
# big thread (default bench-3000); ONLY="seed big" keeps only the runs named.
#
# Lighthouse comes from npm into a cache folder outside the repository, once.
set -eu

BASE=${1:-http://127.0.0.1:8201}
BASE=${BASE%/}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${LIGHTHOUSE_OUT:-$ROOT/artifacts/lighthouse}
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/forum-lighthouse
VERSION=${LIGHTHOUSE_VERSION:-12.8.2}
REPEAT=${REPEAT:-1}
BIG_SLUG=${BIG_SLUG:-bench-3000}
export CHROME_PATH=${CHROME_PATH:-/usr/bin/chromium}

LH=$CACHE/node_modules/.bin/lighthouse
if [ ! -x "$LH" ]; then
  mkdir -p "$CACHE"
  (cd "$CACHE" && npm init -y >/dev/null && npm install --no-audit --no-fund "lighthouse@$VERSION")
fi
mkdir -p "$OUT"

FLAGS="--headless=new --no-sandbox --disable-gpu --disable-background-networking \
--disable-component-update --disable-sync --no-first-run"

# name  path  form factor
RUNS="front /  mobile
front /  desktop
seed /articles/kazakhstan-joins-abraham-accords/ mobile
seed /articles/kazakhstan-joins-abraham-accords/ desktop
big /articles/$BIG_SLUG/ mobile"

summarize() {
  node -e '
const r = require(process.argv[1]);
const cats = ["performance", "accessibility", "best-practices", "seo"];
const score = (c) => (r.categories[c].score === null ? "n/a" : Math.round(r.categories[c].score * 100));
console.log(process.argv[2].padEnd(16) + cats.map((c) => c + " " + score(c)).join("  "));
const seen = new Set();
for (const c of cats) {
  for (const ref of r.categories[c].auditRefs) {
    const a = r.audits[ref.id];
    if (seen.has(a.id) || a.score === null || a.score >= 1) continue;
    if (a.scoreDisplayMode === "informative" || a.scoreDisplayMode === "notApplicable") continue;
    seen.add(a.id);
    const what = ((a.details && a.details.items) || [])
      .map((i) => (i.node && (i.node.selector || i.node.snippet)) || i.url || i.source || "")
      .filter(Boolean).slice(0, 3).join(" | ");
    // Weight 0: a diagnostic or insight, shown but not part of the score.
    console.log("    " + c + ": " + a.id + " (" + a.score + ", weight " + ref.weight + ") " + a.title +
      (a.displayValue ? " [" + a.displayValue + "]" : "") + (what ? " -> " + what : ""));
  }
}' "$1" "$2"
}

echo "$RUNS" | while read -r name path form; do
  case " ${ONLY:-$name} " in *" $name "*) ;; *) continue ;; esac
  i=1
  while [ "$i" -le "$REPEAT" ]; do
    label="$name-$form-$i"
    preset=""
    [ "$form" = desktop ] && preset="--preset=desktop"
    # On a busy machine Chromium's trace sometimes comes back without a
    # navigation start (NO_NAVSTART): run again, up to three tries in all.
    tries=0
    rm -f "$OUT/$label.report.json"
    until [ -s "$OUT/$label.report.json" ] && node -e \
      'process.exit(require(process.argv[1]).runtimeError ? 1 : 0)' "$OUT/$label.report.json"; do
      tries=$((tries + 1))
      if [ "$tries" -gt 3 ]; then echo "$label: no report after 3 tries" >&2; break; fi
      # shellcheck disable=SC2086 # $preset is empty or one word
      "$LH" "$BASE$path" $preset --quiet \
        --only-categories=performance,accessibility,best-practices,seo \
        --chrome-flags="$FLAGS" \
        --output=json --output=html --output-path="$OUT/$label" >/dev/null || true
    done
    [ -s "$OUT/$label.report.json" ] && summarize "$OUT/$label.report.json" "$label"
    i=$((i + 1))
  done
done
