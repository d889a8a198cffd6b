package migration

import "fmt"

// Phase is where a migration stands.
//
//	planned → provisioned → replicating → validated → cutting-over → complete
//	cutting-over → rolled-back
//	complete → rolled-back      (inside the rollback window; the caller checks the window)
//	rolled-back → cutting-over  (try again)
type Phase string

// The phases of a migration.
const (
	PhasePlanned     Phase = "planned"
	PhaseProvisioned Phase = "provisioned"
	PhaseReplicating Phase = "replicating"
	PhaseValidated   Phase = "validated"
	PhaseCuttingOver Phase = "cutting-over"
	PhaseComplete    Phase = "complete"
	PhaseRolledBack  Phase = "rolled-back"
)

// Phases lists every phase in lifecycle order.
var Phases = []Phase{PhasePlanned, PhaseProvisioned, PhaseReplicating, PhaseValidated, PhaseCuttingOver, PhaseComplete, PhaseRolledBack}

var transitions = map[Phase][]Phase{
	PhasePlanned:     {PhaseProvisioned},
	PhaseProvisioned: {PhaseReplicating},
	PhaseReplicating: {PhaseValidated},
	PhaseValidated:   {PhaseCuttingOver},
	PhaseCuttingOver: {PhaseComplete, PhaseRolledBack},
	PhaseComplete:    {PhaseRolledBack},
	PhaseRolledBack:  {PhaseCuttingOver},
}

// Valid reports whether p is one of Phases.
func (p Phase) Valid() bool {
	_, ok := transitions[p]
	return ok
}

// Next returns the phases p may move to.
func (p Phase) Next() []Phase { return append([]Phase(nil), transitions[p]...) }

// CanTransition reports whether from → to is a legal transition. Staying in
// the same phase is not a transition.
func CanTransition(from, to Phase) bool {
	for _, n := range transitions[from] {
		if n == to {
			return true
		}
	}
	return false
}

// CheckTransition returns nil when from → to is legal, else an error that
// names both phases and what from may move to.
func CheckTransition(from, to Phase) error {
	switch {
	case !from.Valid():
		return fmt.Errorf("unknown phase %q", from)
	case !to.Valid():
		return fmt.Errorf("unknown phase %q", to)
	case !CanTransition(from, to):
		return fmt.Errorf("%w %s → %s (from %s: %v)", ErrIllegalTransition, from, to, from, transitions[from])
	}
	return nil
}
