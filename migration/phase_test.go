package migration_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/cutoverkit/cutover/migration"
)

// TestTransitionsExhaustive checks every ordered pair of phases against
// the lifecycle of ARCHITECTURE.md.
func TestTransitionsExhaustive(t *testing.T) {
	legal := map[[2]migration.Phase]bool{
		{migration.PhasePlanned, migration.PhaseProvisioned}:     true,
		{migration.PhaseProvisioned, migration.PhaseReplicating}: true,
		{migration.PhaseReplicating, migration.PhaseValidated}:   true,
		{migration.PhaseValidated, migration.PhaseCuttingOver}:   true,
		{migration.PhaseCuttingOver, migration.PhaseComplete}:    true,
		{migration.PhaseCuttingOver, migration.PhaseRolledBack}:  true,
		{migration.PhaseComplete, migration.PhaseRolledBack}:     true,
		{migration.PhaseRolledBack, migration.PhaseCuttingOver}:  true,
	}
	n := 0
	for _, from := range migration.Phases {
		for _, to := range migration.Phases {
			n++
			t.Run(fmt.Sprintf("%s->%s", from, to), func(t *testing.T) {
				want := legal[[2]migration.Phase{from, to}]
				assert.Equal(t, want, migration.CanTransition(from, to))
				err := migration.CheckTransition(from, to)
				if want {
					assert.NoError(t, err)
				} else {
					assert.ErrorIs(t, err, migration.ErrIllegalTransition)
				}
			})
		}
	}
	assert.Equal(t, 49, n)
	assert.ErrorContains(t, migration.CheckTransition("bogus", migration.PhasePlanned), "unknown phase")
	assert.ErrorContains(t, migration.CheckTransition(migration.PhasePlanned, "bogus"), "unknown phase")
	assert.ElementsMatch(t, []migration.Phase{migration.PhaseComplete, migration.PhaseRolledBack}, migration.PhaseCuttingOver.Next())
}
