package migration

import (
	"errors"
	"fmt"
	"time"
)

// The types in this file cross package boundaries. Domain packages never
// import each other; when one needs another (the rollback controller
// shifts traffic through dns, records through tracking, reads lag from
// dms) it declares a narrow interface in terms of these types, and the
// example program wires the implementations in.

// MaxWeight is the largest Route 53 record weight.
const MaxWeight = 255

// Split is a traffic split between blue (on-premises) and green (AWS),
// as Route 53 weights of 0..255 each. A record's share is its weight over
// the sum of both.
type Split struct {
	Blue  int `json:"blue"`
	Green int `json:"green"`
}

// GreenPercent returns a split sending percent (0..100) of traffic to green.
func GreenPercent(percent int) Split { return Split{Blue: 100 - percent, Green: percent} }

// AllBlue is the rollback split: everything on-premises.
var AllBlue = Split{Blue: 100, Green: 0}

// Shifted is a traffic shift that took effect: the split the records now
// hold and the Route 53 change that set it.
type Shifted struct {
	Split    Split  `json:"split"`
	ChangeID string `json:"changeId"`
}

// GreenShare returns green's share of traffic in percent (0..100). The
// both-zero split is reported as 50: Route 53 then answers with every
// record equally.
func (s Split) GreenShare() float64 {
	if s.Blue+s.Green == 0 {
		return 50
	}
	return 100 * float64(s.Green) / float64(s.Blue+s.Green)
}

// Validate checks both weights are 0..255 and, unless allowBothZero, that
// they are not both zero.
func (s Split) Validate(allowBothZero bool) error {
	if s.Blue < 0 || s.Blue > MaxWeight {
		return fmt.Errorf("split.blue: weight %d outside 0..%d", s.Blue, MaxWeight)
	}
	if s.Green < 0 || s.Green > MaxWeight {
		return fmt.Errorf("split.green: weight %d outside 0..%d", s.Green, MaxWeight)
	}
	if s.Blue == 0 && s.Green == 0 && !allowBothZero {
		return fmt.Errorf("split: both weights zero makes Route 53 answer with both records equally; allow it explicitly if that is meant")
	}
	return nil
}

// String renders the split as "blue B / green G", the form plans,
// events and status use.
func (s Split) String() string { return fmt.Sprintf("blue %d / green %d", s.Blue, s.Green) }

// ReplicationLag is the state of one DMS task's change data capture: how
// far behind the source and target are, the task status and when it was
// measured. The cutover gates, the rollback policy and the dashboard all
// read this one value.
type ReplicationLag struct {
	Task   string        `json:"task"`
	Status string        `json:"status"`
	Source time.Duration `json:"source"`
	Target time.Duration `json:"target"`
	At     time.Time     `json:"at"`
	// Tables counts the task's tables by state (e.g. "Table completed").
	Tables map[string]int `json:"tables,omitempty"`
	// ValidationFailures counts rows whose validation failed.
	ValidationFailures int64 `json:"validationFailures,omitempty"`
}

// Severity ranks a Notification.
type Severity string

// The severities of notifications.
const (
	SeverityInfo     Severity = "info"
	SeverityWarning  Severity = "warning"
	SeverityCritical Severity = "critical"
)

// Notification is one message to the operators: a phase transition, an
// error, a hold, a freeze, a completion. It never holds a secret.
type Notification struct {
	Env      string    `json:"env"`
	Severity Severity  `json:"severity"`
	Subject  string    `json:"subject"`
	From     Phase     `json:"from,omitempty"`
	To       Phase     `json:"to,omitempty"`
	Reason   string    `json:"reason,omitempty"`
	Time     time.Time `json:"time"`
	// Details carries structured context (a decision, a step, an ID).
	Details map[string]string `json:"details,omitempty"`
}

// HistoryEntry is one entry of a migration's history as the tracking
// store keeps it: a transition, a decision of the rollback policy, an
// error, an operator action. Actor says who or what acted ("operator
// alice", "lambda", "controller").
type HistoryEntry struct {
	Time    time.Time         `json:"time"`
	Type    string            `json:"type"`
	Actor   string            `json:"actor,omitempty"`
	Summary string            `json:"summary"`
	Details map[string]string `json:"details,omitempty"`
}

// ServerStatus is one application server's replication state as the
// tracking store keeps it (from MGN's DescribeSourceServers).
type ServerStatus struct {
	Name string `json:"name"`
	// ID is the MGN source server ID (s-...).
	ID string `json:"id,omitempty"`
	// State is the MGN lifecycle state (READY_FOR_TEST, CUTOVER, ...).
	State string `json:"state"`
	// Replication is the data replication state (INITIAL_SYNC, CONTINUOUS, STALLED, ...).
	Replication string `json:"replication,omitempty"`
	// Percent is the initial sync progress, 0..100.
	Percent float64       `json:"percent"`
	Lag     time.Duration `json:"lag"`
	At      time.Time     `json:"at"`
}

// TransferStatus is the progress of one file transfer (a DataSync task
// execution).
type TransferStatus struct {
	Task       string    `json:"task"`
	Execution  string    `json:"execution,omitempty"`
	Status     string    `json:"status"`
	BytesDone  int64     `json:"bytesDone"`
	BytesTotal int64     `json:"bytesTotal"`
	FilesDone  int64     `json:"filesDone"`
	At         time.Time `json:"at"`
}

// ValidationResult is the outcome of one validation run (an SSM command
// over a set of instances, or a local check).
type ValidationResult struct {
	Name      string           `json:"name"`
	Passed    bool             `json:"passed"`
	At        time.Time        `json:"at"`
	CommandID string           `json:"commandId,omitempty"`
	Instances []InstanceResult `json:"instances,omitempty"`
}

// InstanceResult is one instance's outcome in a validation run.
type InstanceResult struct {
	InstanceID string `json:"instanceId"`
	Name       string `json:"name,omitempty"`
	Passed     bool   `json:"passed"`
	Status     string `json:"status"`
	// Output is an excerpt of the command output (never a secret: the
	// checks print no credentials).
	Output string `json:"output,omitempty"`
}

// ErrConflict means a guarded write lost a race: someone else changed the
// record first (another operator, the rollback Lambda). Nothing was
// written; re-read and decide again.
var ErrConflict = errors.New("conflict: the record changed since it was read")

// ErrIllegalTransition means a phase transition the lifecycle does not
// allow (see CanTransition). Nothing was written.
var ErrIllegalTransition = errors.New("illegal phase transition")
