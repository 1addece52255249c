#!/usr/bin/env bash
# Measures how `wwly gate` behaves on this machine, with the real harness:
#   1. the A/A false-positive rate: RUNS gates of one binary against itself (same server args);
#   2. the power: RUNS gates of the same binary against itself with SLOW_ARGS as the candidate's
#      server args (a known slowdown; calibrate SLOW_ARGS so it costs ~20%, see CALIBRATE).
# Each gate is the full gate (pairs, rerun on failure) exactly as CI runs it. Prints one line per
# gate and a summary; all gate.json files stay under OUT.
#
# It takes long: a gate is 2*PAIRS bench runs (twice when it reruns). With gate.yaml's ~3 s cells
# expect ~3-6 min per gate, so the defaults (20 + 20 gates) take 2-4 hours.
#
# Environment: BIN (bin/wwly, built if missing), RUNS (20), PAIRS (gate default), SLOW_ARGS
# (--flush-interval=15us: measured +15..28% under load on this box), SCENARIO (bench/scenarios/gate.yaml), OUT
# (results/gate-proof/<UTC time>), PHASES ("aa slow"), CALIBRATE=1 (only run one --no-rerun gate
# with SLOW_ARGS and print the slowdown it measures), GATE_ARGS (extra gate flags; default
# "--retry-failed 1"), SEED_BASE (0; added to each gate's seed, to extend a measurement).
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-bin/wwly}
RUNS=${RUNS:-20}
SLOW_ARGS=${SLOW_ARGS:---flush-interval=15us}
SCENARIO=${SCENARIO:-bench/scenarios/gate.yaml}
OUT=${OUT:-results/gate-proof/$(date -u +%Y%m%dT%H%M%SZ)}
PHASES=${PHASES:-aa slow}
# As in CI: a run that fails without a violation (a late start on a loaded box) is retried once.
GATE_ARGS=${GATE_ARGS:---retry-failed 1}
pairs=()
[ -n "${PAIRS:-}" ] && pairs=(--pairs "$PAIRS")

if [ ! -x "$BIN" ]; then
	go build -o "$BIN" ./cmd/wwly || exit 2
fi
mkdir -p "$OUT"

# ratios prints the median ratios of the gated lock metrics of the last attempt of a gate.json.
ratios() {
	python3 - "$1" <<'PY' 2>/dev/null || echo "(no gate.json)"
import json, sys
r = json.load(open(sys.argv[1]))
ab = r.get("ab") or {}
att = ab.get("attempts") or []
if not att:
    print(r.get("error", "")[:120]); sys.exit()
ms = [m for m in att[-1]["metrics"] if m["gated"]]
print(" ".join("%s=%.3f(p=%.3g)" % (m["metric"], m["median_ratio"], m["p"]) for m in ms),
      "attempts=%d" % len(att))
PY
}

if [ "${CALIBRATE:-0}" = 1 ]; then
	d="$OUT/calibrate"
	# shellcheck disable=SC2086
	"$BIN" gate --cand-bin "$BIN" --cand-server-args "$SLOW_ARGS" --scenario "$SCENARIO" --out "$d" \
		--no-rerun "${pairs[@]}" ${GATE_ARGS:-} >"$d.log" 2>&1
	code=$?
	echo "calibrate: SLOW_ARGS=$SLOW_ARGS exit=$code $(ratios "$d/gate.json")"
	exit 0
fi

echo "gate-proof: BIN=$BIN RUNS=$RUNS SLOW_ARGS='$SLOW_ARGS' SCENARIO=$SCENARIO OUT=$OUT"
declare -A pass fail err
for phase in $PHASES; do
	pass[$phase]=0 fail[$phase]=0 err[$phase]=0
	for i in $(seq 1 "$RUNS"); do
		d="$OUT/$phase-$i"
		args=(--base-bin "$BIN" --cand-bin "$BIN")
		[ "$phase" = slow ] && args=(--cand-bin "$BIN" --cand-server-args "$SLOW_ARGS")
		t0=$(date +%s)
		# shellcheck disable=SC2086
		"$BIN" gate "${args[@]}" --scenario "$SCENARIO" --out "$d" --seed "$((${SEED_BASE:-0} + 1000 * i + ${#phase}))" \
			"${pairs[@]}" ${GATE_ARGS:-} >"$d.log" 2>&1
		code=$?
		case $code in
		0) pass[$phase]=$((pass[$phase] + 1)) ;;
		1) fail[$phase]=$((fail[$phase] + 1)) ;;
		*) err[$phase]=$((err[$phase] + 1)) ;;
		esac
		echo "gate-proof: $phase $i/$RUNS exit=$code $(($(date +%s) - t0))s $(ratios "$d/gate.json")"
	done
done

echo "gate-proof: summary (exit 0 pass, 1 regression, 2 error)"
for phase in $PHASES; do
	n=$((pass[$phase] + fail[$phase] + err[$phase]))
	case $phase in
	aa) echo "  A/A (same binary): false positives ${fail[$phase]}/$n, errors ${err[$phase]}" ;;
	slow) echo "  slowdown ($SLOW_ARGS): caught ${fail[$phase]}/$n, errors ${err[$phase]}" ;;
	esac
done
