// Package loadgen is the load generator behind `wwly bench`: it measures lock backends (package
// bench) with many worker OS processes sharing one clock, and checks mutual exclusion in every
// run.
//
// The pieces, in the order a run uses them:
//
//   - Scenario (scenario.go): what to measure, from bench/scenarios/*.yaml plus flag overrides.
//   - RunScenario (run.go): starts each backend once, runs its cells, writes run.json (Run, the
//     versioned contract reports read) and one HdrHistogram interval log per cell.
//   - RunCell (coordinator.go): spawns W `wwly worker` processes in a bounded stream, waits for
//     every READY, releases them together through a futex barrier, collects their histograms
//     (JSON lines on stdout), and kills and reaps every one of them whatever happened.
//   - RunWorker (worker.go): one worker: closed loop, or open loop paced by Pacer with latency
//     from the intended start (no coordinated omission).
//   - Witness (shm.go): the exclusion checker in a shared mmap'd file — an occupancy witness, a
//     non-atomic balance that loses updates under overlap, and fencing-token monotonicity.
package loadgen
