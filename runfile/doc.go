// Package runfile owns run.json, the file that joins `wwly bench` (which writes it) to
// `wwly report`, `wwly gate` and `wwly tune` (which read it): its types, its schema version, and
// the one way to read, check and write it. It depends on the standard library only, so every
// stage — and a build other than the one that wrote the file — reads the same shape.
//
// Versions: 1 is the original shape; 2 adds the scenario's ops-per-worker settings and, per cell,
// MinOpsPerWorker, Insufficient and Conclusive (is the cell a result, and are its Jain index and
// percentiles meaningful). Read accepts both and fills version 2's fields in a version-1 file from
// what it holds (per-worker ops, with the default minimum), so old runs render with the same rules.
package runfile
