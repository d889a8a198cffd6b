package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/cutoverkit/cutover/migration"
)

// progress renders runbook events: one line per event in text mode, one
// JSON object per line in json mode.
type progress struct {
	mu     sync.Mutex
	text   io.Writer
	json   *json.Encoder
	clock  migration.Clock
	start  time.Time
	waitAt map[string]time.Time // last waiting line per step, to rate-limit them
}

func newProgress(w io.Writer, format string, clock migration.Clock) *progress {
	p := &progress{text: w, clock: clock, start: clock.Now(), waitAt: map[string]time.Time{}}
	if format == "json" {
		p.json = json.NewEncoder(w)
	}
	return p
}

func (p *progress) event(e migration.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.json != nil {
		_ = p.json.Encode(e)
		return
	}
	at := fmtElapsed(e.Time.Sub(p.start))
	switch e.Type {
	case migration.EventStarted:
		fmt.Fprintf(p.text, "%s  %-22s started\n", at, e.Step)
	case migration.EventWaiting:
		// One waiting line per step per simulated minute is enough to see
		// what it waits on.
		if last, ok := p.waitAt[e.Step]; ok && e.Time.Sub(last) < time.Minute {
			return
		}
		p.waitAt[e.Step] = e.Time
		state := ""
		if e.State != "" {
			state = " (" + e.State + ")"
		}
		fmt.Fprintf(p.text, "%s  %-22s waiting for %s%s, %s so far\n", at, e.Step, e.Waiting, state, e.Waited.Round(time.Second))
	case migration.EventChange:
		if e.Change.Action != migration.ActionNoop {
			fmt.Fprintf(p.text, "%s  %-22s %s\n", at, e.Step, e.Change)
		}
	case migration.EventDone:
		fmt.Fprintf(p.text, "%s  %-22s done\n", at, e.Step)
	case migration.EventFailed:
		fmt.Fprintf(p.text, "%s  %-22s FAILED: %s\n", at, e.Step, e.Err)
	case migration.EventSkipped:
		fmt.Fprintf(p.text, "%s  %-22s not run\n", at, e.Step)
	}
}

func fmtElapsed(d time.Duration) string {
	d = d.Round(time.Second)
	return fmt.Sprintf("[%02d:%02d]", int(d.Minutes()), int(d.Seconds())%60)
}

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }
