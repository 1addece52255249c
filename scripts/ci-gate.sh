#!/usr/bin/env bash
# Quick A/B performance gate for CI, run after the tests: HEAD~1 (base) against the working tree
# (candidate; in CI the working tree is HEAD), with `wwly gate` on bench/scenarios/gate.yaml.
# Skips with exit 0, saying why, when there is nothing to compare: no HEAD~1 (first commit,
# shallow clone), HEAD~1 does not build, or its `wwly bench` cannot write a run directory yet.
# Otherwise the gate's table goes to this log and the exit status is the gate's:
# 0 pass, 1 regression, 2 error. Budget: ~8 minutes in all (CI_GATE_BUDGET seconds).
#
# Environment: GO (go), CI_GATE_BUDGET (480), CI_GATE_ARGS (extra `wwly gate` flags, e.g.
# "--pairs 10"), GATE_OUT (output dir; default results/gate/ci-<UTC time>), CI_GATE_BASE_REF
# (HEAD~1; HEAD makes an A/A check of the gate itself).
set -uo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
GO=${GO:-go}
budget=${CI_GATE_BUDGET:-480}
scenario=bench/scenarios/gate.yaml
out=${GATE_OUT:-results/gate/ci-$(date -u +%Y%m%dT%H%M%SZ)}
ref=${CI_GATE_BASE_REF:-HEAD~1}

skip() {
	echo "ci-gate: SKIP: $*"
	exit 0
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

git rev-parse --verify -q "$ref^{commit}" >/dev/null 2>&1 || skip "$ref does not exist (first commit or a shallow clone)"
[ -f "$scenario" ] || skip "$scenario is missing"

echo "ci-gate: building the candidate (working tree, $(git rev-parse --short HEAD 2>/dev/null))"
if ! "$GO" build -o "$tmp/wwly-cand" ./cmd/wwly; then
	echo "ci-gate: ERROR: the working tree does not build"
	exit 2
fi

echo "ci-gate: building the base ($ref, $(git rev-parse --short "$ref"))"
mkdir -p "$tmp/base-src"
if ! git archive --format=tar "$ref" | tar -x -C "$tmp/base-src"; then
	skip "git archive $ref failed"
fi
if ! (cd "$tmp/base-src" && "$GO" build -o "$tmp/wwly-base" ./cmd/wwly) >"$tmp/base-build.log" 2>&1; then
	tail -n 20 "$tmp/base-build.log"
	skip "$ref does not build (above)"
fi
# A base whose bench cannot write a run directory (before the harness existed) has nothing to
# compare against; find that out from its help rather than from a failed run.
# (Read the help into a variable first: with pipefail, grep -q closing the pipe early would
# make the pipeline fail.)
base_help=$("$tmp/wwly-base" bench --help 2>/dev/null || true)
if ! grep -q -- '--out' <<<"$base_help"; then
	skip "$ref's \`wwly bench\` has no --out (no harness to compare against yet)"
fi

elapsed=$(($(date +%s) - start))
left=$((budget - elapsed - 15))
if [ "$left" -lt 60 ]; then
	skip "only ${left}s of the ${budget}s budget left after the builds"
fi
echo "ci-gate: running the gate with a ${left}s limit"
# shellcheck disable=SC2086 # CI_GATE_ARGS is a list of flags
"$tmp/wwly-cand" gate --base-bin "$tmp/wwly-base" --cand-bin "$tmp/wwly-cand" \
	--scenario "$scenario" --out "$out" --timeout "${left}s" --retry-failed 1 ${CI_GATE_ARGS:-}
status=$?
echo "ci-gate: gate exit status $status (0 pass, 1 regression, 2 error); report in $out/gate.json"
exit "$status"
