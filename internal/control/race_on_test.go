//go:build race

package control

// raceEnabled: the race detector is on (sync.Pool then drops a quarter of
// what is put back, so allocation counts are not exact).
const raceEnabled = true
