#!/usr/bin/env bash
# The GitHub Action's scan step (action.yml), runnable anywhere: install aisec, scan, write
# SARIF and a job summary, and report the exit code as a step output.
#   AISEC_SCAN_PATHS  files or folders (space-separated)      required
#   AISEC_FAIL_ON     severity that fails the job             default: high
#   AISEC_SARIF       SARIF report path                       default: aisec-model-scan.sarif
#   AISEC_SPEC        pip requirement for aisec               default: this checkout
#   AISEC_SKIP_INSTALL=1   use the aisec already on PATH (tests)
set -uo pipefail

paths=${AISEC_SCAN_PATHS:?set AISEC_SCAN_PATHS to the files or folders to scan}
fail_on=${AISEC_FAIL_ON:-high}
sarif=${AISEC_SARIF:-aisec-model-scan.sarif}
here=$(cd "$(dirname "$0")/.." && pwd)

if [ "${AISEC_SKIP_INSTALL:-}" != "1" ]; then
  spec=${AISEC_SPEC:-$here}
  python -m pip install --quiet --disable-pip-version-check "$spec" || {
    echo "aisec: error: could not install aisec from '$spec'" >&2
    echo "exit-code=2" >> "${GITHUB_OUTPUT:-/dev/null}"
    exit 2
  }
fi

# word-splitting of the path list is intended (several paths)
# shellcheck disable=SC2086
aisec model scan $paths --no-record --fail-on "$fail_on" --format sarif --output "$sarif"
code=$?
echo "exit-code=$code" >> "${GITHUB_OUTPUT:-/dev/null}"

if [ -n "${GITHUB_STEP_SUMMARY:-}" ] && [ -f "$sarif" ]; then
  python - "$sarif" "$fail_on" "$code" >> "$GITHUB_STEP_SUMMARY" <<'PY'
import json, sys
sarif, fail_on, code = sys.argv[1], sys.argv[2], int(sys.argv[3])
results = json.load(open(sarif))["runs"][0]["results"]
verdict = {0: "no finding at or above", 1: "findings at or above", 2: "bad input for"}.get(code, "error in")
print(f"### aisec model scan: {verdict} `{fail_on}`\n")
print(f"{len(results)} finding(s).\n")
if results:
    print("| severity | rule | file | message |\n|---|---|---|---|")
    for r in results[:50]:
        loc = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        msg = r["message"]["text"].replace("|", "\\|")[:160]
        print(f"| {r['properties']['severity']} | {r['ruleId']} | `{loc}` | {msg} |")
PY
fi
exit "$code"
