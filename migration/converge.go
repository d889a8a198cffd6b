package migration

import (
	"fmt"
	"maps"
	"slices"

	"github.com/cutoverkit/cutover/internal/awsx"
)

// Converge collects what an Ensure finds different on a resource that
// already exists and the writes that fix it, so every Ensure converges
// the same way: record while comparing (Fix, FixAll, Tags; Differs and
// Then where the writes go in another order than the diff), then Apply
// once. Apply runs the writes in the order they were recorded, unless the
// env is a dry run, and reports one Change: update with the diff when
// something differs, noop otherwise. A converged resource therefore costs
// no write, and a dry run shows the very diff an apply would fix.
//
// Writes are closures over the Ensure's context and client; they wrap
// their own errors with what they did ("tag vpc-1: ..."), and Apply
// returns the first failure as it is, so error texts do not depend on
// how a write was recorded.
//
// The zero value is ready to use. A Converge belongs to one Ensure call
// and is not safe for concurrent use.
type Converge struct {
	diff  []FieldDiff
	steps []func() error
}

// Fix records that field differs (from -> to, as an operator reads it)
// and the write that sets it.
func (c *Converge) Fix(field, from, to string, write func() error) {
	c.diff = append(c.diff, FieldDiff{Field: field, From: from, To: to})
	c.steps = append(c.steps, write)
}

// FixAll records the fields of diff and the one write that sets them all
// (an Update call that takes every mutable field at once). It records
// nothing when diff is empty.
func (c *Converge) FixAll(diff []FieldDiff, write func() error) {
	if len(diff) == 0 {
		return
	}
	c.diff = append(c.diff, diff...)
	c.steps = append(c.steps, write)
}

// Tags records the tags of want that have lacks or holds with another
// value (the env's tags, env.NameTags(name)), as the one diff entry
// {Field: "tags", From: "(missing)", To: "[sorted keys]"}, and the write
// that adds them: write receives exactly those tags. Tags on the resource
// that want does not name are left alone; someone else may own them. It
// records nothing when no tag is missing.
func (c *Converge) Tags(have, want map[string]string, write func(missing map[string]string) error) {
	missing := awsx.MissingTags(have, want)
	if len(missing) == 0 {
		return
	}
	c.Fix("tags", "(missing)", fmt.Sprint(slices.Sorted(maps.Keys(missing))), func() error { return write(missing) })
}

// Differs records fields that differ without a write: the write that
// fixes them is recorded later with Then. Use it when the writes must run
// in another order than the diff lists the fields, for example to tag a
// resource (Tags) before the update that fixes the fields listed first.
func (c *Converge) Differs(diff ...FieldDiff) {
	c.diff = append(c.diff, diff...)
}

// Then records a step with no diff entry of its own: the write that fixes
// fields recorded with Differs, or a wait the resource needs (for example
// until an update settles, or until a resource found still pending is
// available). Apply runs it in recording order, outside a dry run, even
// when nothing differs.
func (c *Converge) Then(step func() error) {
	c.steps = append(c.steps, step)
}

// Diff returns the recorded fields that differ, in recording order, or nil
// when none does. The slice is the caller's own.
func (c *Converge) Diff() []FieldDiff { return slices.Clone(c.diff) }

// Changed reports whether any field differs: whether Apply reports an
// update.
func (c *Converge) Changed() bool { return len(c.diff) > 0 }

// Run runs the recorded writes and steps in recording order, unless
// env.DryRun; it stops at the first error and returns it unchanged. It
// reports nothing: Apply is Run plus the report, and Run alone serves an
// Ensure that reports its Change itself (a resource it has just created
// and then converges reports create).
func (c *Converge) Run(env Env) error {
	if env.DryRun {
		return nil
	}
	for _, step := range c.steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// Apply runs the writes (see Run) and then reports ch, with its Action
// and Diff set from what was recorded: ActionUpdate and the diff when a
// field differs, else ActionNoop and no diff. Kind, Name, ID and Note are
// reported as given. When a write fails Apply reports nothing and returns
// the write's error.
func (c *Converge) Apply(env Env, ch Change) error {
	if err := c.Run(env); err != nil {
		return err
	}
	ch.Action, ch.Diff = ActionNoop, nil
	if c.Changed() {
		ch.Action, ch.Diff = ActionUpdate, c.Diff()
	}
	env.Report(ch)
	return nil
}
