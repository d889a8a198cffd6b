package validate

import (
	"errors"
	"fmt"
	"strings"

	"github.com/cutoverkit/cutover/migration"
)

// ErrNotValidated is wrapped by every error of Passed and Gate that comes
// from validation (rather than from an illegal transition).
var ErrNotValidated = errors.New("validation has not passed")

// Failure is one reason validation has not passed: an instance whose
// check failed, or a check that validated no instance.
type Failure struct {
	// Check is the result's name (the document, or a local check).
	Check string
	// InstanceID and Name identify the instance; empty for a failure of
	// the check as a whole.
	InstanceID string
	Name       string
	// Status is the invocation status (Failed, TimedOut, NotTargeted, ...)
	// or what is wrong with the check.
	Status string
	// Output is the excerpt of the instance's output.
	Output string
}

// String renders the failure on one line: the check, the instance and
// its name, the status and the last line of the output (at most 160
// bytes of it).
func (f Failure) String() string {
	var b strings.Builder
	b.WriteString(f.Check)
	if f.InstanceID != "" {
		fmt.Fprintf(&b, " on %s", f.InstanceID)
		if f.Name != "" {
			fmt.Fprintf(&b, " (%s)", f.Name)
		}
	}
	fmt.Fprintf(&b, ": %s", f.Status)
	if line := lastLine(f.Output); line != "" {
		fmt.Fprintf(&b, ": %s", truncate(line, 160))
	}
	return b.String()
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return strings.TrimSpace(s[i+1:])
	}
	return s
}

// GateError lists every failure that keeps the migration from advancing.
// It wraps ErrNotValidated.
type GateError struct {
	Failures []Failure
	// Instances counts the instance results examined.
	Instances int
}

// Error names every failing instance with its check, status and the last
// line of its output.
func (e *GateError) Error() string {
	lines := make([]string, len(e.Failures))
	for i, f := range e.Failures {
		lines[i] = f.String()
	}
	failed := map[string]bool{}
	for _, f := range e.Failures {
		if f.InstanceID != "" {
			failed[f.InstanceID] = true
		}
	}
	return fmt.Sprintf("%s: %d failure(s), %d of %d instance result(s) failed: %s", ErrNotValidated, len(e.Failures), len(failed), e.Instances, strings.Join(lines, "; "))
}

// Unwrap returns ErrNotValidated.
func (e *GateError) Unwrap() error { return ErrNotValidated }

// Passed returns nil when the results show a passed validation, else a
// *GateError naming every failure:
//
//   - no results at all;
//   - a result with no instance that did not pass (a run whose targets
//     matched nothing, a dry run, a failed local check);
//   - every instance of every result that did not pass;
//   - a result marked failed with no failing instance listed.
//
// A result's own Passed flag is not trusted when an instance failed.
func Passed(results ...migration.ValidationResult) error {
	if len(results) == 0 {
		return &GateError{Failures: []Failure{{Check: "validation", Status: "no validation results: run validation first"}}}
	}
	e := &GateError{}
	for _, r := range results {
		before := len(e.Failures)
		for _, inst := range r.Instances {
			e.Instances++
			if !inst.Passed {
				e.Failures = append(e.Failures, Failure{Check: r.Name, InstanceID: inst.InstanceID, Name: inst.Name, Status: inst.Status, Output: inst.Output})
			}
		}
		if !r.Passed && len(e.Failures) == before {
			status := "failed"
			switch {
			case migration.IsPending(r.CommandID):
				status = "not run (dry run)"
			case len(r.Instances) == 0 && r.CommandID != "":
				status = "no instance matched the targets"
			}
			e.Failures = append(e.Failures, Failure{Check: r.Name, Status: status})
		}
	}
	if len(e.Failures) == 0 {
		return nil
	}
	return e
}

// Gate decides whether the migration may move from one phase to another.
// The transition must be legal (migration.CheckTransition); moving to
// validated or to cutting-over (the first cutover and every retry after a
// rollback) also needs Passed(results...). Other transitions ignore the
// results.
func Gate(from, to migration.Phase, results ...migration.ValidationResult) error {
	if err := migration.CheckTransition(from, to); err != nil {
		return err
	}
	if to != migration.PhaseValidated && to != migration.PhaseCuttingOver {
		return nil
	}
	if err := Passed(results...); err != nil {
		return fmt.Errorf("%s → %s: %w", from, to, err)
	}
	return nil
}
