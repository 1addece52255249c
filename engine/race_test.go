//go:build race

package engine

// raceEnabled shrinks the randomized differential test: the race detector slows it ~10×
// and the engine has no goroutines for it to check anyway.
const raceEnabled = true
