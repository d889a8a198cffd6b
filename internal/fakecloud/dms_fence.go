package fakecloud

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// dmsFence is the write fence of a simulated source database.
type dmsFence struct {
	Frozen  bool      `json:"frozen"`
	FrozeAt time.Time `json:"frozeAt,omitzero"`
}

// SourceFence is the simulated on-premises source database of a forward
// task, as the database switch sees it (it implements dms.Fence): Freeze
// stops its application writes, and the forward task confirms the
// source's changes up to the time its CDC has reached — the fake clock
// minus the task's CDCLatencyTarget (SetTaskLatency), and never past the
// moment the task stopped or failed. Its state is part of the cloud's
// state, so it survives Save and Load. It is not AWS: its operations are
// not in the call log.
type SourceFence struct {
	f       *DMS
	taskARN string
}

// SourceFence returns the fence of the source database of the forward
// task taskARN.
func (f *DMS) SourceFence(taskARN string) *SourceFence { return &SourceFence{f: f, taskARN: taskARN} }

// SourceFrozen reports whether application writes to the source database
// of the forward task taskARN are frozen.
func (f *DMS) SourceFrozen(taskARN string) bool {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	fence := f.st().Fences[taskARN]
	return fence != nil && fence.Frozen
}

const fencePositionPrefix = "sim/"

// Freeze freezes the source's application writes and returns the current
// position of its change stream.
func (s *SourceFence) Freeze(ctx context.Context) (string, error) {
	s.f.c.mu.Lock()
	defer s.f.c.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return "", err
	}
	st := s.f.st()
	if st.Fences == nil {
		st.Fences = map[string]*dmsFence{}
	}
	now := s.f.c.now()
	if fence := st.Fences[s.taskARN]; fence == nil || !fence.Frozen {
		st.Fences[s.taskARN] = &dmsFence{Frozen: true, FrozeAt: now}
	}
	return fencePositionPrefix + now.UTC().Format(time.RFC3339Nano), nil
}

// Frozen reports whether the source's application writes are frozen.
func (s *SourceFence) Frozen(ctx context.Context) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	return s.f.SourceFrozen(s.taskARN), nil
}

// Confirmed reports whether the forward task has confirmed the source's
// changes up to position.
func (s *SourceFence) Confirmed(ctx context.Context, position string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	at, err := time.Parse(time.RFC3339Nano, strings.TrimPrefix(position, fencePositionPrefix))
	if err != nil || !strings.HasPrefix(position, fencePositionPrefix) {
		return false, fmt.Errorf("confirmed: %q is not a position of this source", position)
	}
	s.f.c.mu.Lock()
	defer s.f.c.mu.Unlock()
	var task *dmsTask
	for _, t := range s.f.st().Tasks {
		if t.ARN == s.taskARN {
			task = t
		}
	}
	if task == nil {
		return false, fmt.Errorf("confirmed: no task %s", s.taskARN)
	}
	if task.CDCFrom.IsZero() {
		return false, nil // no change capture yet: nothing confirmed
	}
	reached := s.f.c.now()
	if !task.StopAt.IsZero() && task.StopAt.Before(reached) {
		reached = task.StopAt
	}
	latency := time.Duration(task.latency(reached, true) * float64(time.Second))
	return !reached.Add(-latency).Before(at), nil
}

// Thaw lets the source's applications write again.
func (s *SourceFence) Thaw(ctx context.Context) error {
	s.f.c.mu.Lock()
	defer s.f.c.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	delete(s.f.st().Fences, s.taskARN)
	return nil
}
