package rollback_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/smithy-go"

	"github.com/cutoverkit/cutover/internal/fakecloud"
	"github.com/cutoverkit/cutover/migration"
)

// The in-memory doubles of rollback's interfaces (tracking.Store,
// dns.Router, tracking.Notifier, the DMS tasks), with the semantics the
// real ones promise: conditional transitions, a lease, a Router whose
// Shift returns once INSYNC on the env clock.

type transitionRec struct {
	From, To migration.Phase
	Reason   string
	At       time.Time
}

type fakeStore struct {
	mu          sync.Mutex
	clock       migration.Clock
	phase       migration.Phase
	version     int64
	history     []migration.HistoryEntry
	splits      []migration.Split
	transitions []transitionRec
	validations map[string]migration.ValidationResult
	leaseOwner  string
	renewErr    error
}

func newStore(clock migration.Clock, phase migration.Phase) *fakeStore {
	return &fakeStore{clock: clock, phase: phase, version: 1, validations: map[string]migration.ValidationResult{}}
}

func (s *fakeStore) PhaseVersion(context.Context) (migration.Phase, int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.phase, s.version, nil
}

func (s *fakeStore) Transition(_ context.Context, from, to migration.Phase, reason string) error {
	if err := migration.CheckTransition(from, to); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.phase != from {
		return fmt.Errorf("transition %s → %s: the phase is %s: %w", from, to, s.phase, migration.ErrConflict)
	}
	s.phase = to
	s.version++
	s.transitions = append(s.transitions, transitionRec{From: from, To: to, Reason: reason, At: s.clock.Now()})
	return nil
}

func (s *fakeStore) Record(_ context.Context, e migration.HistoryEntry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.history = append(s.history, e)
	return nil
}

func (s *fakeStore) RecordSplit(_ context.Context, sp migration.Split, changeID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if changeID == "" {
		return errors.New("a split without a change ID")
	}
	s.splits = append(s.splits, sp)
	return nil
}

func (s *fakeStore) LastValidation(_ context.Context, name string) (migration.ValidationResult, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.validations[name]
	return v, ok, nil
}

func (s *fakeStore) Lock(_ context.Context, owner string) (func(context.Context) error, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.leaseOwner != "" && s.leaseOwner != owner {
		return nil, fmt.Errorf("lease held by %s", s.leaseOwner)
	}
	s.leaseOwner = owner
	return func(context.Context) error {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.leaseOwner == owner {
			s.leaseOwner = ""
		}
		return nil
	}, nil
}

func (s *fakeStore) Renew(_ context.Context, owner string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.renewErr != nil {
		return s.renewErr
	}
	if s.leaseOwner != owner {
		return fmt.Errorf("lease held by %q, not %q", s.leaseOwner, owner)
	}
	return nil
}

func (s *fakeStore) entries(typ string) []migration.HistoryEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []migration.HistoryEntry
	for _, e := range s.history {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

func (s *fakeStore) transitionsTo(p migration.Phase) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, t := range s.transitions {
		if t.To == p {
			n++
		}
	}
	return n
}

func (s *fakeStore) current() migration.Phase {
	p, _, _ := s.PhaseVersion(context.Background())
	return p
}

type shiftRec struct {
	To       migration.Split
	ChangeID string
	At       time.Time // when it was INSYNC
}

// fakeRouter is a Router whose Shift takes insync on the clock, as
// Route 53 takes to propagate: the records (Weights) change when the
// change is accepted, resolvers (splitAt) follow at INSYNC.
type fakeRouter struct {
	mu        sync.Mutex
	clock     migration.Clock
	insync    time.Duration
	split     migration.Split
	shifts    []shiftRec
	seq       int
	failPrior int             // the next failPrior shifts fail with PriorRequestNotComplete
	barrier   *sync.WaitGroup // when set, Shift waits until every party arrived
	attempts  int
	accepted  func(to migration.Split) // when set, called once a change is accepted, before INSYNC
	misapply  *migration.Split         // when set, every shift applies this split instead
}

func newRouter(clock migration.Clock) *fakeRouter {
	return &fakeRouter{clock: clock, insync: 40 * time.Second, split: migration.AllBlue}
}

func (r *fakeRouter) Shift(ctx context.Context, to migration.Split) (migration.Shifted, error) {
	if b := r.barrier; b != nil {
		b.Done()
		b.Wait()
	}
	r.mu.Lock()
	r.attempts++
	if r.failPrior > 0 {
		r.failPrior--
		r.mu.Unlock()
		return migration.Shifted{}, fmt.Errorf("change record sets: %w", &smithy.GenericAPIError{Code: "PriorRequestNotComplete", Message: "The request was rejected because Route 53 was still processing a prior request."})
	}
	r.seq++
	id := fmt.Sprintf("C%04d", r.seq)
	if r.misapply != nil {
		to = *r.misapply
	}
	r.split = to
	accepted := r.accepted
	r.mu.Unlock()
	if accepted != nil {
		accepted(to)
	}
	select { // wait for INSYNC
	case <-ctx.Done():
		return migration.Shifted{ChangeID: id}, ctx.Err()
	case <-r.clock.After(r.insync):
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.shifts = append(r.shifts, shiftRec{To: to, ChangeID: id, At: r.clock.Now()})
	return migration.Shifted{Split: to, ChangeID: id}, nil
}

func (r *fakeRouter) Weights(context.Context) (migration.Split, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.split, nil
}

// splitAt returns the split in effect at t.
func (r *fakeRouter) splitAt(t time.Time) migration.Split {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := migration.AllBlue
	for _, sh := range r.shifts {
		if !sh.At.After(t) {
			s = sh.To
		}
	}
	return s
}

func (r *fakeRouter) greens() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []int
	for _, s := range r.shifts {
		out = append(out, s.To.Green)
	}
	return out
}

func (r *fakeRouter) lastShift() shiftRec {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.shifts[len(r.shifts)-1]
}

type fakeNotifier struct {
	mu   sync.Mutex
	sent []migration.Notification
}

func (n *fakeNotifier) Notify(_ context.Context, msg migration.Notification) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.sent = append(n.sent, msg)
	return nil
}

func (n *fakeNotifier) bySeverity(s migration.Severity) []migration.Notification {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []migration.Notification
	for _, m := range n.sent {
		if m.Severity == s {
			out = append(out, m)
		}
	}
	return out
}

func (n *fakeNotifier) subjects() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []string
	for _, m := range n.sent {
		out = append(out, m.Subject)
	}
	return out
}

// fakeReplication is the forward and reverse DMS tasks.
type fakeReplication struct {
	mu            sync.Mutex
	forward       migration.ReplicationLag
	reverse       migration.ReplicationLag
	reverseErr    error
	startErr      error
	starts        int
	startsRunning bool // SwitchDatabase and EnsureReverse make the reverse task running
	// startedAt is the forward task's state at each SwitchDatabase: the
	// database switch must find its lag within bound.
	startedAt []migration.ReplicationLag
	switches  int
	// switchTakes, with clock, is how long a switch takes: the source's
	// drain and the reverse task's start.
	switchTakes time.Duration
	clock       *fakecloud.Clock
}

func newReplication() *fakeReplication {
	return &fakeReplication{
		forward:       migration.ReplicationLag{Task: "dms-task-forward-dev", Status: "running", Source: 2 * time.Second, Target: 4 * time.Second},
		reverse:       migration.ReplicationLag{Task: "dms-task-reverse-dev", Status: "running", Source: time.Second, Target: 3 * time.Second},
		startsRunning: true,
	}
}

func (f *fakeReplication) ForwardLag(context.Context) (migration.ReplicationLag, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.forward, nil
}

func (f *fakeReplication) ReverseLag(context.Context) (migration.ReplicationLag, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reverse, f.reverseErr
}

// SwitchDatabase is the controller's database switch: the forward task
// stops and the reverse one starts.
func (f *fakeReplication) SwitchDatabase(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.switches++
	f.startedAt = append(f.startedAt, f.forward)
	if f.switchTakes > 0 {
		f.clock.Advance(f.switchTakes)
	}
	if f.startErr != nil {
		return f.startErr
	}
	if f.startsRunning {
		f.forward.Status = "stopped"
		f.reverse.Status = "running"
	}
	return nil
}

// EnsureReverse is the executor's: it never switches the database.
func (f *fakeReplication) EnsureReverse(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.starts++
	if f.startErr != nil {
		return f.startErr
	}
	if f.startsRunning && f.forward.Status != "running" {
		f.reverse.Status = "running"
	}
	return nil
}

func (f *fakeReplication) set(fn func(f *fakeReplication)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (f *fakeReplication) forwardAtStarts() []migration.ReplicationLag {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]migration.ReplicationLag(nil), f.startedAt...)
}

func (f *fakeReplication) switchCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.switches
}

func (f *fakeReplication) startCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.starts
}
