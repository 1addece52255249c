// Package loadgen is the load generator behind `wwly bench`: it measures lock backends (package
// bench) with many worker OS processes sharing one clock, and checks mutual exclusion in every
// run.
//
// The pieces, in the order a run uses them:
//
//   - Scenario (scenario.go): what to measure — a YAML file or one embedded in the binary
//     (package bench/scenarios) — plus flag overrides. Its type is runfile.Config.
//   - RunScenario (run.go): starts each backend once, runs its cells, writes run.json through
//     package runfile (the versioned contract reports, gate and tune read) and one HdrHistogram
//     interval log per cell. Workers are the lean `wwly-worker` beside the wwly binary when it
//     links the backend, else `wwly-worker-redis` when it does, else `wwly-worker-net`, else `wwly worker`
//     (WorkerCommandFor).
//   - RunCell (cell.go): starts W workers from a Pool (pool.go) in a bounded stream, waits for
//     every READY, releases them together through a futex barrier, ends an ops-sized window when
//     its target is met, merges their final reports (aggregate.go) and interval histograms
//     (intervals.go), and judges the cell: too few ops is not a result (runfile.Cell.Judge).
//   - RunWorker (worker.go): one worker: closed loop, or open loop paced by Pacer with latency
//     from the intended start (no coordinated omission). Its Timing is the cell's, unchanged.
//   - Witness (shm.go): the exclusion checker in a shared mmap'd file — an occupancy witness, a
//     non-atomic balance that loses updates under overlap, fencing-token monotonicity — plus the
//     start barrier and the early end of an ops-sized window.
package loadgen
