package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/cutoverkit/cutover/migration"
)

// progress renders runbook events in one of three ways:
//   - a live view of every step (in a terminal): status, what it waits on
//     and for how long, redrawn in place;
//   - one line per event (text, not a terminal: logs and CI);
//   - one JSON object per event (-o json).
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	json  *json.Encoder
	live  bool
	start time.Time

	// live view
	order  []string
	steps  map[string]*stepView
	drawn  int
	waitAt map[string]time.Time // line mode: last waiting line per step
}

type stepView struct {
	status  string // pending, running, waiting, done, failed, not run
	detail  string
	since   time.Time
	changes int
}

func newProgress(w io.Writer, format string, clock migration.Clock, steps []string) *progress {
	p := &progress{w: w, start: clock.Now(), steps: map[string]*stepView{}, waitAt: map[string]time.Time{}, order: steps}
	switch {
	case format == "json":
		p.json = json.NewEncoder(w)
	case isTerminalWriter(w):
		p.live = true
		for _, s := range steps {
			p.steps[s] = &stepView{status: "pending"}
		}
	}
	return p
}

func (p *progress) event(e migration.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.json != nil:
		_ = p.json.Encode(e)
	case p.live:
		p.update(e)
		p.draw(e.Time)
	default:
		p.line(e)
	}
}

// line writes one log line for an event.
func (p *progress) line(e migration.Event) {
	at := fmtElapsed(e.Time.Sub(p.start))
	switch e.Type {
	case migration.EventStarted:
		fmt.Fprintf(p.w, "%s  %-24s started\n", at, e.Step)
	case migration.EventWaiting:
		// One waiting line per step per simulated minute is enough to see
		// what it waits on.
		if last, ok := p.waitAt[e.Step]; ok && e.Time.Sub(last) < time.Minute {
			return
		}
		p.waitAt[e.Step] = e.Time
		fmt.Fprintf(p.w, "%s  %-24s waiting for %s%s, %s so far\n", at, e.Step, e.Waiting, paren(e.State), e.Waited.Round(time.Second))
	case migration.EventChange:
		if e.Change.Action != migration.ActionNoop {
			fmt.Fprintf(p.w, "%s  %-24s %s\n", at, e.Step, e.Change)
		}
	case migration.EventDone:
		fmt.Fprintf(p.w, "%s  %-24s done\n", at, e.Step)
	case migration.EventFailed:
		fmt.Fprintf(p.w, "%s  %-24s FAILED: %s\n", at, e.Step, e.Err)
	case migration.EventSkipped:
		fmt.Fprintf(p.w, "%s  %-24s not run\n", at, e.Step)
	}
}

func (p *progress) update(e migration.Event) {
	s, ok := p.steps[e.Step]
	if !ok {
		s = &stepView{}
		p.steps[e.Step] = s
		p.order = append(p.order, e.Step)
	}
	switch e.Type {
	case migration.EventStarted:
		s.status, s.detail, s.since = "running", "", e.Time
	case migration.EventWaiting:
		s.status, s.detail = "waiting", "for "+e.Waiting+paren(e.State)
	case migration.EventChange:
		if e.Change.Action != migration.ActionNoop {
			s.changes++
		}
		s.status, s.detail = "running", e.Change.String()
	case migration.EventDone:
		s.status, s.detail = "done", fmt.Sprintf("%d changed", s.changes)
	case migration.EventFailed:
		s.status, s.detail = "failed", e.Err
	case migration.EventSkipped:
		s.status, s.detail = "not run", ""
	}
}

// draw redraws the whole view in place.
func (p *progress) draw(now time.Time) {
	width := 100
	if f, ok := p.w.(*os.File); ok {
		if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 20 {
			width = w
		}
	}
	var b strings.Builder
	if p.drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", p.drawn)
	}
	for _, name := range p.order {
		s := p.steps[name]
		elapsed := ""
		if s.status == "running" || s.status == "waiting" {
			elapsed = now.Sub(s.since).Round(time.Second).String()
		}
		line := fmt.Sprintf("%s %-24s %-8s %6s  %s", icon(s.status), name, s.status, elapsed, s.detail)
		// Cut at a column, not a byte: the icons and details hold
		// multi-byte characters (✓, →) that half a rune would garble.
		if r := []rune(line); len(r) > width-1 {
			line = string(r[:width-1])
		}
		b.WriteString("\x1b[2K" + line + "\n")
	}
	p.drawn = len(p.order)
	_, _ = io.WriteString(p.w, b.String())
}

func icon(status string) string {
	switch status {
	case "done":
		return "✓"
	case "failed":
		return "✗"
	case "running", "waiting":
		return "…"
	case "not run":
		return "-"
	}
	return " "
}

func paren(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}

func fmtElapsed(d time.Duration) string {
	d = d.Round(time.Second)
	return fmt.Sprintf("[%02d:%02d:%02d]", int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60)
}

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

func isTerminalWriter(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && isTerminal(f)
}
