#!/usr/bin/env bash
# handoff-cost.sh: what one handoff of a hot lock costs, server side and worker side.
#
# For each W in $WORKERS it starts `wwly serve` (with metrics), drives it with `wwly bench`
# (W worker processes, one lock, hold 0) and, in a steady window of $WINDOW seconds, reads:
#   - handoffs: wwly_grants_total from the server's metrics, before and after the window;
#   - CPU, context switches, scheduler delay: /proc/PID/task/*/{stat,status,schedstat} of the
#     server and of every worker (schedstat's 2nd field is time runnable but not running);
#   - perf stat -e task-clock,context-switches,cpu-migrations on the server and on the workers;
# then, in separate windows (they slow the run; per-handoff counts stay meaningful):
#   - strace -c -f on the server, and on up to 8 workers;
#   - perf sched record -a, perf sched latency (wake-up to run delay per task);
#   - a Go runtime trace of the server (/debug/pprof/trace), reduced with
#     go tool trace -pprof=sched (time goroutines sat runnable).
# Everything per handoff is a count divided by the handoffs of the same window.
#
# Usage: scripts/handoff-cost.sh [OUTDIR]
#   env: WORKERS="8 64 256" WINDOW=3 BIN=bin/wwly SERVER_ARGS="--handoff=barge:4" SERVER_ENV="GOMAXPROCS=1"
set -euo pipefail

BIN=${BIN:-bin/wwly}
WORKERS=${WORKERS:-8 64 256}
WINDOW=${WINDOW:-3}
SERVER_ARGS=${SERVER_ARGS:-}
SERVER_ENV=${SERVER_ENV:-}
OUT=${1:-/tmp/handoff-cost}
mkdir -p "$OUT"

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# grants reads wwly_grants_total from the metrics endpoint.
grants() { curl -s "http://$MADDR/metrics" | awk '/^wwly_grants_total /{print $2}'; }

# sample PIDS... prints: utime+stime ticks, voluntary, involuntary ctx switches, run ns, wait ns,
# timeslices, summed over every thread of the given processes. One awk for all the files: on a
# loaded box a fork per file would take longer than the window.
sample() {
	local files=() p
	for p in "$@"; do files+=(/proc/"$p"/task/*/stat /proc/"$p"/task/*/status /proc/"$p"/task/*/schedstat); done
	awk '
		FILENAME ~ /\/stat$/ { sub(/^.*\) /, ""); u += $12 + $13; next }  # fields after "(comm) ": utime is the 12th
		/^voluntary_ctxt_switches/ { vol += $2; next }
		/^nonvoluntary_ctxt_switches/ { inv += $2; next }
		FILENAME ~ /schedstat$/ { run += $1; wait += $2; sl += $3 }
		END { printf "%.0f %.0f %.0f %.0f %.0f %.0f\n", u, vol, inv, run, wait, sl }
	' "${files[@]}" 2>/dev/null
}

# workers lists this bench's worker processes (its children): other benches may be running.
workers() { pgrep -P "$BPID" || true; }

for W in $WORKERS; do
	d="$OUT/W$W"
	mkdir -p "$d"
	ADDR=127.0.0.1:$(port)
	MADDR=127.0.0.1:$(port)
	# shellcheck disable=SC2086
	env $SERVER_ENV "$BIN" serve --addr "$ADDR" --unsafe-tokens --metrics-addr "$MADDR" --log-level warn $SERVER_ARGS 2>"$d/serve.log" &
	SPID=$!
	trap 'kill $SPID ${BPID:-} 2>/dev/null || true' EXIT
	for _ in $(seq 100); do curl -sf "http://$MADDR/healthz" >/dev/null && break; sleep 0.1; done
	dur=$((WINDOW * 4 + 40)) # covers the windows below; the bench then ends by itself
	"$BIN" bench --backends wwly --wwly-addr "$ADDR" --workers "$W" --locks 1 --duration "${dur}s" --warmup 1s \
		--out "$d/bench" >"$d/bench.log" 2>&1 &
	BPID=$!
	# Wait until the workers run and grants flow.
	g0=$(grants)
	for _ in $(seq 300); do
		sleep 0.2
		g1=$(grants)
		[ "$(workers | wc -l)" -ge "$W" ] && [ "${g1%.*}" -gt "$((${g0%.*} + 1000))" ] && break
	done
	sleep 1
	mapfile -t WP < <(workers)
	echo "W=$W $(date -u +%T) flowing, ${#WP[@]} workers"
	# Window 1: /proc counters and perf stat, untraced.
	s0=$(sample "$SPID"); w0=$(sample "${WP[@]}"); g0=$(grants); t0=$(date +%s.%N)
	perf stat -e task-clock,context-switches,cpu-migrations -p "$SPID" -o "$d/perf-server.txt" -- sleep "$WINDOW" &
	P1=$!
	perf stat -e task-clock,context-switches,cpu-migrations -p "$(IFS=,; echo "${WP[*]}")" -o "$d/perf-workers.txt" -- sleep "$WINDOW" &
	P2=$!
	wait "$P1" "$P2" || true
	g1=$(grants); t1=$(date +%s.%N); s1=$(sample "$SPID"); w1=$(sample "${WP[@]}")
	echo "W=$W handoffs=$((${g1%.*} - ${g0%.*})) window=$(echo "$t1 - $t0" | bc)s server=[$s0]->[$s1] workers=[$w0]->[$w1] nworkers=${#WP[@]}" >"$d/proc.txt"
	# Window 2: strace -c on the server.
	g0=$(grants)
	timeout -s INT "$WINDOW" strace -c -f -p "$SPID" -o "$d/strace-server.txt" || true
	g1=$(grants)
	echo "handoffs=$((${g1%.*} - ${g0%.*}))" >>"$d/strace-server.txt"
	# Window 3: syscalls of every worker. strace cannot attach to them here (ptrace: Operation not
	# permitted), so perf trace -s, summed over the workers per syscall.
	g0=$(grants)
	timeout -s INT "$WINDOW" perf trace -s -p "$(IFS=,; echo "${WP[*]}")" -o "$d/perftrace-workers.raw" >/dev/null 2>&1 || true
	g1=$(grants)
	{
		echo "handoffs=$((${g1%.*} - ${g0%.*})) workers=${#WP[@]}"
		awk '$2 ~ /^[0-9]+$/ && $1 ~ /^[a-z_0-9]+$/ { calls[$1] += $2 } END { for (k in calls) print calls[k], k }' \
			"$d/perftrace-workers.raw" | sort -rn | head -12
	} >"$d/perftrace-workers.txt"
	echo "W=$W $(date -u +%T) perf sched"
	# Window 4: perf sched.
	g0=$(grants)
	perf sched record -a -o "$d/sched.data" -- sleep 1 >/dev/null 2>&1 || true
	g1=$(grants)
	# Per pid, summed over this run's server and workers only (other benches may be running).
	perf sched latency -p -i "$d/sched.data" >"$d/sched-all.txt" 2>/dev/null || true
	{
		echo "handoffs=$((${g1%.*} - ${g0%.*}))"
		for role in server workers; do
			if [ $role = server ]; then procs="$SPID"; else procs="${WP[*]}"; fi
			pids=$(for p in $procs; do ls /proc/"$p"/task 2>/dev/null || true; done | tr '\n' ' ') # perf sched -p is per thread
			awk -v pids=" $pids " -v role=$role -F'|' '
				{ split($1, a, ":"); pid = a[2] + 0 }
				index(pids, " " pid " ") && pid > 0 {
					rt += $2; sw += $3; split($4, b, ":"); delay += (b[2] + 0) * ($3 + 0)
				}
				END { printf "%s runtime_ms=%.3f switches=%d avg_delay_ms=%.3f\n", role, rt, sw, sw ? delay / sw : 0 }
			' "$d/sched-all.txt"
		done
	} >"$d/sched.txt"
	rm -f "$d/sched.data"
	# Window 5: Go runtime trace of the server.
	g0=$(grants)
	curl -s -o "$d/server.trace" "http://$MADDR/debug/pprof/trace?seconds=1" || true
	g1=$(grants)
	echo "handoffs=$((${g1%.*} - ${g0%.*}))" >"$d/trace.txt"
	go tool trace -pprof=sched "$d/server.trace" >"$d/sched.pprof" 2>/dev/null &&
		go tool pprof -top -nodecount=12 "$d/sched.pprof" >>"$d/trace.txt" 2>/dev/null || true
	go tool trace -pprof=syscall "$d/server.trace" >"$d/syscall.pprof" 2>/dev/null &&
		go tool pprof -top -nodecount=8 "$d/syscall.pprof" >>"$d/trace.txt" 2>/dev/null || true
	wait "$BPID" || echo "bench exit $?" >>"$d/bench.log"
	kill "$SPID" 2>/dev/null || true
	wait "$SPID" 2>/dev/null || true
	trap - EXIT
	echo "W=$W done: $d"
done
