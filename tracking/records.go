package tracking

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cutoverkit/cutover/migration"
)

type serverItem struct {
	itemHeader
	migration.ServerStatus
}

type databaseItem struct {
	itemHeader
	migration.ReplicationLag
}

type transferItem struct {
	itemHeader
	migration.TransferStatus
}

type validationItem struct {
	itemHeader
	migration.ValidationResult
}

type splitItem struct {
	itemHeader
	SplitState
}

// checkName validates the name that becomes part of a sort key.
func checkName(field, name string) error {
	switch {
	case strings.TrimSpace(name) == "":
		return fmt.Errorf("%s: required", field)
	case len(name) > 512:
		return fmt.Errorf("%s: at most 512 characters", field)
	}
	return nil
}

// newerWins is the condition of a state write: the record is new, or not
// older than the one stored, so an update that arrives late never moves
// a record backwards.
const newerWins = "attribute_not_exists(#pk) OR #at <= :at"

// putState writes one state item under the newerWins guard and returns
// the item it replaced (nil when new); stale is true when a newer record
// was already stored and nothing was written.
func (s *Store) putState(ctx context.Context, item map[string]types.AttributeValue, at time.Time) (old map[string]types.AttributeValue, stale bool, err error) {
	if n := approxSize(item); n > maxItem {
		return nil, false, fmt.Errorf("record is about %d bytes; DynamoDB items hold at most 400 KB", n)
	}
	out, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 aws.String(s.table),
		Item:                      item,
		ConditionExpression:       aws.String(newerWins),
		ExpressionAttributeNames:  map[string]string{"#pk": AttrPK, "#at": "at"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":at": str(fmtTime(at))},
		ReturnValues:              types.ReturnValueAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return nil, true, nil
	}
	if err != nil {
		return nil, false, err
	}
	return out.Attributes, false, nil
}

// RecordServer stores one application server's replication state (item
// "state#server#<name>"). An update older than the stored one is ignored,
// so pollers that race cannot move a server backwards. When the server is
// new or its lifecycle or replication state changes, an event records
// the change. A zero At is the env clock's now.
func (s *Store) RecordServer(ctx context.Context, st migration.ServerStatus) error {
	if err := checkName("server.name", st.Name); err != nil {
		return fmt.Errorf("record server: %w", err)
	}
	if st.Percent < 0 || st.Percent > 100 {
		return fmt.Errorf("record server %q: percent %v outside 0..100", st.Name, st.Percent)
	}
	if st.At.IsZero() {
		st.At = s.env.Now()
	}
	st.At = st.At.UTC()
	item, err := marshal(serverItem{itemHeader{s.pk, skServerPrefix + st.Name, kindServer}, st})
	if err != nil {
		return fmt.Errorf("record server %q: %w", st.Name, err)
	}
	old, stale, err := s.putState(ctx, item, st.At)
	if err != nil {
		return fmt.Errorf("record server %q: %w", st.Name, err)
	}
	if stale {
		return nil
	}
	var prev serverItem
	if old != nil {
		if err := unmarshal(old, &prev); err != nil {
			return fmt.Errorf("record server %q: %w", st.Name, err)
		}
		if prev.State == st.State && prev.Replication == st.Replication {
			return nil
		}
	}
	summary := fmt.Sprintf("server %s: %s", st.Name, describeServer(st.State, st.Replication))
	if old != nil {
		summary = fmt.Sprintf("server %s: %s → %s", st.Name, describeServer(prev.State, prev.Replication), describeServer(st.State, st.Replication))
	}
	return s.recordChange(ctx, migration.HistoryEntry{Time: st.At, Type: EventServerState, Summary: summary,
		Details: map[string]string{"server": st.Name, "id": st.ID, "state": st.State, "replication": st.Replication, "previousState": prev.State, "previousReplication": prev.Replication}})
}

func describeServer(state, replication string) string {
	if replication == "" {
		return state
	}
	return state + "/" + replication
}

// recordChange records the event that follows a state write; the state
// is written already, so a failure here is reported with that said.
func (s *Store) recordChange(ctx context.Context, e migration.HistoryEntry) error {
	if err := s.Record(ctx, e); err != nil {
		return fmt.Errorf("state recorded, but its event was not: %w", err)
	}
	return nil
}

// RecordDatabase stores one DMS task's replication lag and status (item
// "state#database#<task>"), newer wins as for RecordServer; a change of
// status is recorded as an event. A zero At is the env clock's now.
func (s *Store) RecordDatabase(ctx context.Context, lag migration.ReplicationLag) error {
	if err := checkName("database.task", lag.Task); err != nil {
		return fmt.Errorf("record database: %w", err)
	}
	if lag.Source < 0 || lag.Target < 0 {
		return fmt.Errorf("record database %q: negative lag", lag.Task)
	}
	if lag.At.IsZero() {
		lag.At = s.env.Now()
	}
	lag.At = lag.At.UTC()
	item, err := marshal(databaseItem{itemHeader{s.pk, skDatabasePrefix + lag.Task, kindDatabase}, lag})
	if err != nil {
		return fmt.Errorf("record database %q: %w", lag.Task, err)
	}
	old, stale, err := s.putState(ctx, item, lag.At)
	if err != nil {
		return fmt.Errorf("record database %q: %w", lag.Task, err)
	}
	if stale {
		return nil
	}
	var prev databaseItem
	if old != nil {
		if err := unmarshal(old, &prev); err != nil {
			return fmt.Errorf("record database %q: %w", lag.Task, err)
		}
		if prev.Status == lag.Status {
			return nil
		}
	}
	summary := fmt.Sprintf("database task %s: %s", lag.Task, lag.Status)
	if old != nil {
		summary = fmt.Sprintf("database task %s: %s → %s", lag.Task, prev.Status, lag.Status)
	}
	return s.recordChange(ctx, migration.HistoryEntry{Time: lag.At, Type: EventDatabaseStatus, Summary: summary,
		Details: map[string]string{"task": lag.Task, "status": lag.Status, "previousStatus": prev.Status, "sourceLag": lag.Source.String(), "targetLag": lag.Target.String()}})
}

// RecordTransfer stores one file transfer's progress (item
// "state#transfer#<task>"), newer wins. A zero At is the env clock's now.
func (s *Store) RecordTransfer(ctx context.Context, t migration.TransferStatus) error {
	if err := checkName("transfer.task", t.Task); err != nil {
		return fmt.Errorf("record transfer: %w", err)
	}
	if t.BytesDone < 0 || t.BytesTotal < 0 || t.FilesDone < 0 {
		return fmt.Errorf("record transfer %q: negative counts", t.Task)
	}
	if t.At.IsZero() {
		t.At = s.env.Now()
	}
	t.At = t.At.UTC()
	item, err := marshal(transferItem{itemHeader{s.pk, skTransferPrefix + t.Task, kindTransfer}, t})
	if err != nil {
		return fmt.Errorf("record transfer %q: %w", t.Task, err)
	}
	if _, _, err := s.putState(ctx, item, t.At); err != nil {
		return fmt.Errorf("record transfer %q: %w", t.Task, err)
	}
	return nil
}

// RecordValidation stores a validation run's result as the latest of its
// name (item "state#validation#<name>") and appends it to the history, in
// one transaction: the cutover gates read the latest, the audit reads the
// history. A result older than the stored one is ignored. A zero At is
// the env clock's now.
func (s *Store) RecordValidation(ctx context.Context, r migration.ValidationResult) error {
	if err := checkName("validation.name", r.Name); err != nil {
		return fmt.Errorf("record validation: %w", err)
	}
	if r.At.IsZero() {
		r.At = s.env.Now()
	}
	r.At = r.At.UTC()
	item, err := marshal(validationItem{itemHeader{s.pk, skValidationPrefix + r.Name, kindValidation}, r})
	if err != nil {
		return fmt.Errorf("record validation %q: %w", r.Name, err)
	}
	verdict := "failed"
	if r.Passed {
		verdict = "passed"
	}
	failed := 0
	for _, in := range r.Instances {
		if !in.Passed {
			failed++
		}
	}
	entry := migration.HistoryEntry{Time: r.At, Type: EventValidation,
		Summary: fmt.Sprintf("validation %s %s (%d of %d instances failed)", r.Name, verdict, failed, len(r.Instances)),
		Details: map[string]string{"name": r.Name, "passed": fmt.Sprint(r.Passed), "commandId": r.CommandID}}
	return s.writeWithEvent(ctx, "record validation "+r.Name, item, r.At, entry)
}

// writeWithEvent puts a state item under the newerWins guard together
// with its event, atomically. A stale state item writes nothing.
func (s *Store) writeWithEvent(ctx context.Context, what string, item map[string]types.AttributeValue, at time.Time, e migration.HistoryEntry) error {
	if n := approxSize(item); n > maxItem {
		return fmt.Errorf("%s: record is about %d bytes; DynamoDB items hold at most 400 KB", what, n)
	}
	put, err := s.eventPut(e)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	_, err = s.api.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{
			TableName:                 aws.String(s.table),
			Item:                      item,
			ConditionExpression:       aws.String(newerWins),
			ExpressionAttributeNames:  map[string]string{"#pk": AttrPK, "#at": "at"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":at": str(fmtTime(at))},
		}},
		{Put: put},
	}})
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) && len(tce.CancellationReasons) > 0 && aws.ToString(tce.CancellationReasons[0].Code) == "ConditionalCheckFailed" {
		s.env.Log().Info("stale record ignored", "env", s.env.Suffix, "what", what, "at", fmtTime(at))
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// LastValidation returns the latest result of the named validation; ok is
// false when none was recorded.
func (s *Store) LastValidation(ctx context.Context, name string) (migration.ValidationResult, bool, error) {
	if err := checkName("validation.name", name); err != nil {
		return migration.ValidationResult{}, false, fmt.Errorf("read validation: %w", err)
	}
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: s.key(skValidationPrefix + name), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return migration.ValidationResult{}, false, fmt.Errorf("read validation %q: %w", name, err)
	}
	if len(out.Item) == 0 {
		return migration.ValidationResult{}, false, nil
	}
	var it validationItem
	if err := unmarshal(out.Item, &it); err != nil {
		return migration.ValidationResult{}, false, fmt.Errorf("read validation %q: %w", name, err)
	}
	return it.ValidationResult, true, nil
}

// RecordSplit stores the traffic split now in force and the Route 53
// change that applied it (changeID may be empty), and appends a
// traffic-shift event, in one transaction. Newer wins: a shift recorded
// late (a slow controller after the rollback Lambda) does not overwrite
// the later one. Both weights may be zero (Route 53 then answers with
// both records).
func (s *Store) RecordSplit(ctx context.Context, split migration.Split, changeID string) error {
	if err := split.Validate(true); err != nil {
		return fmt.Errorf("record split: %w", err)
	}
	now := s.env.Now().UTC()
	state := SplitState{Split: split, ChangeID: changeID, At: now, Actor: s.actor}
	item, err := marshal(splitItem{itemHeader{s.pk, skSplit, kindSplit}, state})
	if err != nil {
		return fmt.Errorf("record split: %w", err)
	}
	summary := fmt.Sprintf("traffic %s (%.0f%% green)", split, split.GreenShare())
	if changeID != "" {
		summary += ", change " + changeID
	}
	entry := migration.HistoryEntry{Time: now, Type: EventTrafficShift, Summary: summary,
		Details: map[string]string{"blue": fmt.Sprint(split.Blue), "green": fmt.Sprint(split.Green), "changeId": changeID}}
	return s.writeWithEvent(ctx, "record split", item, now, entry)
}
