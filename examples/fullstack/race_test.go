//go:build race

package main

// raceEnabled: the race detector slows the code several times over, so
// wall-time bounds do not hold under it.
const raceEnabled = true
