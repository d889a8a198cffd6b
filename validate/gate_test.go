package validate_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutoverkit/cutover/migration"
	"github.com/cutoverkit/cutover/validate"
)

func TestPassed(t *testing.T) {
	ok := func(id string) migration.InstanceResult {
		return migration.InstanceResult{InstanceID: id, Passed: true, Status: "Success"}
	}
	bad := func(id, name, status, out string) migration.InstanceResult {
		return migration.InstanceResult{InstanceID: id, Name: name, Status: status, Output: out}
	}
	tests := []struct {
		name    string
		results []migration.ValidationResult
		want    []string // fragments of the error; nil: passes
		count   int      // failures
	}{
		{name: "every instance passed", results: []migration.ValidationResult{
			{Name: "app", Passed: true, CommandID: "c1", Instances: []migration.InstanceResult{ok("i-1"), ok("i-2")}},
			{Name: "local-http", Passed: true},
		}},
		{name: "no results", want: []string{"no validation results"}, count: 1},
		{name: "failures across documents are all named", results: []migration.ValidationResult{
			{Name: "app", CommandID: "c1", Instances: []migration.InstanceResult{ok("i-1"), bad("i-2", "app-02", "Failed", "[applicationHealth] PASS x\nFAIL http: 502")}},
			{Name: "config", CommandID: "c2", Instances: []migration.InstanceResult{bad("i-3", "", "TimedOut", "DeliveryTimedOut"), bad("i-4", "app-04", validate.StatusNotTargeted, "")}},
		}, want: []string{"app on i-2 (app-02): Failed: FAIL http: 502", "config on i-3: TimedOut: DeliveryTimedOut", "config on i-4 (app-04): NotTargeted", "3 of 4 instance result(s) failed"}, count: 3},
		{name: "a run whose targets matched nothing", results: []migration.ValidationResult{{Name: "app", CommandID: "c1"}}, want: []string{"app: no instance matched the targets"}, count: 1},
		{name: "a dry run validated nothing", results: []migration.ValidationResult{{Name: "app", CommandID: migration.Pending("app")}}, want: []string{"app: not run (dry run)"}, count: 1},
		{name: "a failed local check", results: []migration.ValidationResult{{Name: "rows orders"}}, want: []string{"rows orders: failed"}, count: 1},
		{name: "a result marked passed with a failing instance is not trusted", results: []migration.ValidationResult{
			{Name: "app", Passed: true, CommandID: "c1", Instances: []migration.InstanceResult{bad("i-9", "", "Failed", "")}},
		}, want: []string{"app on i-9: Failed"}, count: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := validate.Passed(tt.results...)
			if tt.want == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, validate.ErrNotValidated)
			var g *validate.GateError
			require.ErrorAs(t, err, &g)
			assert.Len(t, g.Failures, tt.count)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestGate(t *testing.T) {
	pass := migration.ValidationResult{Name: "app", Passed: true, CommandID: "c", Instances: []migration.InstanceResult{{InstanceID: "i-1", Passed: true, Status: "Success"}}}
	fail := migration.ValidationResult{Name: "app", CommandID: "c", Instances: []migration.InstanceResult{{InstanceID: "i-1", Status: "Failed"}}}
	tests := []struct {
		from, to migration.Phase
		results  []migration.ValidationResult
		wantIs   error
	}{
		{migration.PhaseReplicating, migration.PhaseValidated, []migration.ValidationResult{pass}, nil},
		{migration.PhaseReplicating, migration.PhaseValidated, []migration.ValidationResult{fail}, validate.ErrNotValidated},
		{migration.PhaseReplicating, migration.PhaseValidated, nil, validate.ErrNotValidated},
		{migration.PhaseValidated, migration.PhaseCuttingOver, []migration.ValidationResult{fail}, validate.ErrNotValidated},
		{migration.PhaseRolledBack, migration.PhaseCuttingOver, []migration.ValidationResult{pass, fail}, validate.ErrNotValidated},
		{migration.PhaseRolledBack, migration.PhaseCuttingOver, []migration.ValidationResult{pass}, nil},
		// Transitions that validation does not gate.
		{migration.PhaseCuttingOver, migration.PhaseRolledBack, []migration.ValidationResult{fail}, nil},
		{migration.PhasePlanned, migration.PhaseProvisioned, nil, nil},
		// An illegal transition is refused whatever the results.
		{migration.PhaseReplicating, migration.PhaseComplete, []migration.ValidationResult{pass}, migration.ErrIllegalTransition},
	}
	for _, tt := range tests {
		t.Run(string(tt.from)+"→"+string(tt.to), func(t *testing.T) {
			err := validate.Gate(tt.from, tt.to, tt.results...)
			if tt.wantIs == nil {
				assert.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, tt.wantIs)
		})
	}
}
