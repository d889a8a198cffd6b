package migration

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
)

// Action is what an Ensure or Delete did, or would do in a dry run.
type Action string

// The actions a Change reports.
const (
	ActionCreate Action = "create"
	ActionUpdate Action = "update"
	ActionNoop   Action = "noop"
	ActionDelete Action = "delete"
)

// FieldDiff is one field a Change converges: its old and new value as
// shown to an operator. Secret values never appear in a diff.
type FieldDiff struct {
	Field string `json:"field"`
	From  string `json:"from"`
	To    string `json:"to"`
}

// String renders "field: from -> to", or "field: to" when there was no
// old value.
func (d FieldDiff) String() string {
	if d.From == "" {
		return d.Field + ": " + d.To
	}
	return d.Field + ": " + d.From + " -> " + d.To
}

// Change is one decision about one resource: what kind it is, its name and
// ID (a Pending ID in a dry run), what was (or would be) done and, for an
// update, which fields differ. Note carries what an operator should know
// (for example that a VIF waits for a Direct Connect connection).
type Change struct {
	Kind   string      `json:"kind"`
	Name   string      `json:"name"`
	ID     string      `json:"id,omitempty"`
	Action Action      `json:"action"`
	Diff   []FieldDiff `json:"diff,omitempty"`
	Note   string      `json:"note,omitempty"`
}

// String renders the change on one line, as the logs show it.
func (c Change) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %q", c.Action, c.Kind, c.Name)
	if c.ID != "" && !IsPending(c.ID) {
		fmt.Fprintf(&b, " (%s)", c.ID)
	}
	for _, d := range c.Diff {
		fmt.Fprintf(&b, " %s;", d)
	}
	if c.Note != "" {
		fmt.Fprintf(&b, " [%s]", c.Note)
	}
	return strings.TrimSuffix(b.String(), ";")
}

// Reporter receives every Change an Ensure or Delete makes. It must be
// safe for concurrent use: runbook steps run in parallel.
type Reporter interface {
	Report(Change)
}

// ReporterFunc adapts a function to a Reporter.
type ReporterFunc func(Change)

// Report calls f(c).
func (f ReporterFunc) Report(c Change) { f(c) }

// Report collects Changes; it is a Reporter safe for concurrent use, and
// renders the plan as a table or JSON.
type Report struct {
	mu      sync.Mutex
	changes []Change
}

// Report adds c.
func (r *Report) Report(c Change) {
	r.mu.Lock()
	r.changes = append(r.changes, c)
	r.mu.Unlock()
}

// Changes returns the collected changes ordered by action (create, update,
// delete, noop), kind and name, so output does not depend on the order in
// which parallel steps finished.
func (r *Report) Changes() []Change {
	r.mu.Lock()
	out := slices.Clone(r.changes)
	r.mu.Unlock()
	slices.SortStableFunc(out, func(a, b Change) int {
		return cmp.Or(cmp.Compare(actionOrder(a.Action), actionOrder(b.Action)), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Name, b.Name))
	})
	return out
}

func actionOrder(a Action) int {
	switch a {
	case ActionCreate:
		return 0
	case ActionUpdate:
		return 1
	case ActionDelete:
		return 2
	default:
		return 3
	}
}

// Counts returns how many changes there are of each action.
func (r *Report) Counts() map[Action]int {
	n := map[Action]int{}
	for _, c := range r.Changes() {
		n[c.Action]++
	}
	return n
}

// HasChanges reports whether any change is a create, update or delete.
func (r *Report) HasChanges() bool {
	n := r.Counts()
	return n[ActionCreate]+n[ActionUpdate]+n[ActionDelete] > 0
}

// Summary is the one-line count: "3 to create, 1 to update, 0 to delete, 5 unchanged."
func (r *Report) Summary() string {
	n := r.Counts()
	return fmt.Sprintf("%d to create, %d to update, %d to delete, %d unchanged.", n[ActionCreate], n[ActionUpdate], n[ActionDelete], n[ActionNoop])
}

// WriteTable writes the plan as an aligned table followed by the summary.
// Unchanged resources are listed too, so the table shows everything the
// env owns.
func (r *Report) WriteTable(w io.Writer) error {
	var buf strings.Builder
	tw := tabwriter.NewWriter(&buf, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ACTION\tKIND\tNAME\tID\tDETAIL")
	for _, c := range r.Changes() {
		id := c.ID
		if IsPending(id) {
			id = "(new)"
		}
		var detail []string
		for _, d := range c.Diff {
			detail = append(detail, d.String())
		}
		if c.Note != "" {
			detail = append(detail, c.Note)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.Action, c.Kind, c.Name, id, strings.Join(detail, "; "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, line := range strings.SplitAfter(buf.String(), "\n") {
		if _, err := io.WriteString(w, strings.TrimRight(line, " \n")+strings.Repeat("\n", strings.Count(line, "\n"))); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintln(w, "Plan:", r.Summary())
	return err
}

// MarshalJSON renders the report as {"changes": [...], "summary": {...}}.
func (r *Report) MarshalJSON() ([]byte, error) {
	n := r.Counts()
	return json.Marshal(struct {
		Changes []Change       `json:"changes"`
		Summary map[Action]int `json:"summary"`
	}{r.Changes(), map[Action]int{ActionCreate: n[ActionCreate], ActionUpdate: n[ActionUpdate], ActionDelete: n[ActionDelete], ActionNoop: n[ActionNoop]}})
}
