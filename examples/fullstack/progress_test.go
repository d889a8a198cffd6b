package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"

	"github.com/cutoverkit/cutover/internal/fakecloud"
	"github.com/cutoverkit/cutover/migration"
)

func TestProgressLiveView(t *testing.T) {
	var buf bytes.Buffer
	clock := fakecloud.NewClock(fakecloud.Epoch)
	p := newProgress(&buf, "text", clock, []string{"kms-key", "vpc"})
	p.live = true // as in a terminal
	for _, s := range p.order {
		p.steps[s] = &stepView{status: "pending"}
	}
	t0 := clock.Now()
	p.event(migration.Event{Type: migration.EventStarted, Step: "vpc", Time: t0})
	p.event(migration.Event{Type: migration.EventWaiting, Step: "vpc", Time: t0.Add(40 * time.Second), Waiting: "vpc-1 to be available", State: "pending"})
	out := buf.String()
	frames := strings.Split(out, "\x1b[2A") // each redraw moves up over the two lines
	last := frames[len(frames)-1]
	assert.Contains(t, last, "kms-key                  pending")
	assert.Contains(t, last, "vpc                      waiting     40s  for vpc-1 to be available (pending)")
	assert.Len(t, frames, 2, "two events, one redraw over the first frame")

	// A detail longer than the line is cut at a column, whole characters.
	p.event(migration.Event{Type: migration.EventWaiting, Step: "vpc", Time: t0.Add(time.Minute), Waiting: strings.Repeat("→", 200)})
	last = buf.String()[strings.LastIndex(buf.String(), "\x1b[2A"):]
	assert.True(t, utf8.ValidString(last), "no character cut in half")
	for _, line := range strings.Split(strings.TrimSuffix(last, "\n"), "\n") {
		assert.LessOrEqual(t, utf8.RuneCountInString(strings.TrimPrefix(strings.TrimPrefix(line, "\x1b[2A"), "\x1b[2K")), 99, "at most the width less one column")
	}
}

func TestProgressLines(t *testing.T) {
	var buf bytes.Buffer
	clock := fakecloud.NewClock(fakecloud.Epoch)
	p := newProgress(&buf, "text", clock, []string{"vpc"})
	t0 := clock.Now()
	p.event(migration.Event{Type: migration.EventStarted, Step: "vpc", Time: t0})
	for i := range 5 { // waiting lines are rate-limited to one per simulated minute
		p.event(migration.Event{Type: migration.EventWaiting, Step: "vpc", Time: t0.Add(time.Duration(i) * 20 * time.Second), Waiting: "vpc-1", Waited: time.Duration(i) * 20 * time.Second})
	}
	p.event(migration.Event{Type: migration.EventFailed, Step: "vpc", Time: t0.Add(2 * time.Minute), Err: "boom"})
	assert.Equal(t, `[00:00:00]  vpc                      started
[00:00:00]  vpc                      waiting for vpc-1, 0s so far
[00:01:00]  vpc                      waiting for vpc-1, 1m0s so far
[00:02:00]  vpc                      FAILED: boom
`, buf.String())

	buf.Reset()
	p = newProgress(&buf, "json", clock, nil)
	p.event(migration.Event{Type: migration.EventDone, Step: "vpc", Time: t0})
	assert.Equal(t, `{"type":"done","step":"vpc","time":"2026-11-02T09:00:00Z"}`+"\n", buf.String())
}
