package fakecloud

import (
	"sync"
	"time"
)

// Clock is the fake cloud's time. It has two modes:
//
//   - NewClock: time stands still until something waits. After(d) moves
//     time forward to at least the moment d from now and fires at once, so
//     a poll loop that would take ten minutes takes no real time. Tests use
//     it, and Advance to move time explicitly.
//   - NewScaledClock: time runs with the wall clock, scale times faster.
//     The example's -sim mode uses it so that progress is visible.
//
// Both are safe for concurrent use and never go backwards.
type Clock struct {
	mu       sync.Mutex
	base     time.Time // fake time at realStart, plus every Advance
	scale    float64   // 0: skip-ahead mode
	realBase time.Time
}

// Epoch is where a new fake clock starts.
var Epoch = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

// NewClock returns a skip-ahead clock starting at start.
func NewClock(start time.Time) *Clock { return &Clock{base: start.UTC()} }

// NewScaledClock returns a clock running scale times faster than the wall
// clock from start.
func NewScaledClock(start time.Time, scale float64) *Clock {
	if scale <= 0 {
		scale = 1
	}
	return &Clock{base: start.UTC(), scale: scale, realBase: time.Now()}
}

// Now returns the fake time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nowLocked()
}

func (c *Clock) nowLocked() time.Time {
	if c.scale == 0 {
		return c.base
	}
	real := time.Since(c.realBase)
	return c.base.Add(time.Duration(float64(real) * c.scale)).Truncate(time.Millisecond)
}

// After returns a channel that receives the fake time once d has passed.
// In skip-ahead mode time jumps forward and the channel is ready at once;
// in scaled mode it fires after d/scale of real time.
func (c *Clock) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	c.mu.Lock()
	if c.scale == 0 {
		target := c.base.Add(max(d, 0))
		if target.After(c.base) {
			c.base = target
		}
		ch <- c.base
		c.mu.Unlock()
		return ch
	}
	scale := c.scale
	c.mu.Unlock()
	real := time.Duration(float64(max(d, 0)) / scale)
	time.AfterFunc(real, func() { ch <- c.Now() })
	return ch
}

// Advance moves time forward by d.
func (c *Clock) Advance(d time.Duration) {
	if d <= 0 {
		return
	}
	c.mu.Lock()
	c.base = c.base.Add(d)
	c.mu.Unlock()
}

// Scale returns the speed-up of a scaled clock, or 0 for a skip-ahead one.
func (c *Clock) Scale() float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.scale
}
