package tracking

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cutoverkit/cutover/migration"
)

// ErrIllegalTransition is migration.ErrIllegalTransition: Transition
// refused a move the lifecycle does not allow. Nothing was written.
var ErrIllegalTransition = migration.ErrIllegalTransition

// ErrConflict is migration.ErrConflict: a guarded write lost a race (the
// phase or the record changed since it was read). Nothing was written.
var ErrConflict = migration.ErrConflict

// StoreAPI is the part of the DynamoDB client the Store uses.
type StoreAPI interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

// Sink receives the notifications the Store sends on every transition.
// *Notifier implements it.
type Sink interface {
	Notify(ctx context.Context, m migration.Notification) error
}

// StoreOptions tune a Store. The zero value is usable.
type StoreOptions struct {
	// Table is the table name; TableName(env) when empty.
	Table string
	// Notifier, when set, receives one notification per successful
	// transition (none for a refused or lost one).
	Notifier Sink
	// Actor names who writes through this Store in the history
	// ("operator alice", "lambda", "controller"); "cutover" when empty.
	Actor string
	// StatusEvents is how many of the latest events Status returns; 20
	// when zero.
	StatusEvents int
	// LockTTL is the lease Lock takes; one hour when zero.
	LockTTL time.Duration
	// LockKeepAlive makes Lock renew its lease every LockTTL/3 on the env
	// clock until unlocked, so an apply longer than the TTL keeps it. Use
	// it with a real (or scaled) clock: on a skip-ahead test clock the
	// renewals would race time forward.
	LockKeepAlive bool
}

// Store is the tracking store of one env: its migration's phase, server,
// database, transfer and validation state, traffic split, event history
// and lease, in the tracking table (see the package documentation for
// the key design). It is safe for concurrent use, and several Stores —
// other processes, the rollback Lambda — may share one table: every
// write that decides something is conditional.
//
// Times come from the env clock and are stored as RFC 3339 UTC with
// nanoseconds at a fixed width, so that they sort as strings. The Store
// writes whatever env.DryRun says: it records what happened, and callers
// decide whether to call it in a dry run.
type Store struct {
	env          migration.Env
	api          StoreAPI
	table        string
	pk           string
	sink         Sink
	actor        string
	statusEvents int
	lockTTL      time.Duration
	keepAlive    bool
}

// NewStore returns the Store of env's migration. It validates the env and
// makes no call.
func NewStore(env migration.Env, api StoreAPI, opts StoreOptions) (*Store, error) {
	if err := env.Validate(); err != nil {
		return nil, fmt.Errorf("tracking store: %w", err)
	}
	if api == nil {
		return nil, errors.New("tracking store: nil DynamoDB client")
	}
	if n, ok := opts.Notifier.(*Notifier); ok && n == nil {
		opts.Notifier = nil // a nil *Notifier in the interface means none
	}
	s := &Store{env: env, api: api, table: opts.Table, pk: "env#" + env.Suffix, sink: opts.Notifier,
		actor: opts.Actor, statusEvents: opts.StatusEvents, lockTTL: opts.LockTTL, keepAlive: opts.LockKeepAlive}
	if s.table == "" {
		s.table = TableName(env)
	}
	if s.actor == "" {
		s.actor = "cutover"
	}
	if s.statusEvents <= 0 {
		s.statusEvents = 20
	}
	if s.lockTTL <= 0 {
		s.lockTTL = time.Hour
	}
	return s, nil
}

// Table returns the name of the table the Store writes.
func (s *Store) Table() string { return s.table }

// Sort keys of the items of one env. Every item of the env lives in the
// partition "env#<suffix>"; "state#..." sorts after "event#...", so a
// descending Query returns the current state first, then the newest
// events.
const (
	skMigration        = "state#migration"
	skLease            = "state#lease"
	skSplit            = "state#split"
	skServerPrefix     = "state#server#"
	skDatabasePrefix   = "state#database#"
	skTransferPrefix   = "state#transfer#"
	skValidationPrefix = "state#validation#"
	skEventPrefix      = "event#"
	skEventEnd         = "event$" // sorts after every "event#..." key
)

// Item kinds (the "kind" attribute).
const (
	kindMigration  = "migration"
	kindLease      = "lease"
	kindSplit      = "split"
	kindServer     = "server"
	kindDatabase   = "database"
	kindTransfer   = "transfer"
	kindValidation = "validation"
	kindEvent      = "event"
)

// timeLayout is RFC 3339 in UTC with a fixed nine-digit fraction, so that
// stored times sort as strings.
const timeLayout = "2006-01-02T15:04:05.000000000Z07:00"

func fmtTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func parseTime(s string) (time.Time, error) { return time.Parse(time.RFC3339Nano, s) }

func marshal(v any) (map[string]types.AttributeValue, error) {
	return attributevalue.MarshalMapWithOptions(v, func(o *attributevalue.EncoderOptions) {
		o.TagKey = "json"
		o.EncodeTime = func(t time.Time) (types.AttributeValue, error) {
			return &types.AttributeValueMemberS{Value: fmtTime(t)}, nil
		}
	})
}

func unmarshal(item map[string]types.AttributeValue, v any) error {
	return attributevalue.UnmarshalMapWithOptions(item, v, func(o *attributevalue.DecoderOptions) {
		o.TagKey = "json"
		o.DecodeTime.S = parseTime
	})
}

func str(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func num(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

func (s *Store) key(sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{AttrPK: str(s.pk), AttrSK: str(sk)}
}

// itemHeader is the part every item shares.
type itemHeader struct {
	PK   string `json:"pk"`
	SK   string `json:"sk"`
	Kind string `json:"kind"`
}

// PhaseState is the migration's phase with its guard: Version counts the
// transitions (every one increments it), Epoch counts the entries into
// cutting-over (each cutover attempt is a new epoch; a rollback executor
// deduplicates alarm deliveries by it).
type PhaseState struct {
	Phase   migration.Phase `json:"phase"`
	Version int64           `json:"version"`
	Epoch   int64           `json:"epoch"`
	// Since is when the phase was entered; zero before the first
	// transition.
	Since  time.Time `json:"since"`
	Reason string    `json:"reason,omitempty"`
	Actor  string    `json:"actor,omitempty"`
}

type migrationItem struct {
	itemHeader
	Env string `json:"env"`
	PhaseState
}

// initialPhase is the state of a migration that has never transitioned.
var initialPhase = PhaseState{Phase: migration.PhasePlanned}

// Phase returns the migration's current phase (planned before the first
// transition). It reads consistently.
func (s *Store) Phase(ctx context.Context) (migration.Phase, error) {
	st, err := s.PhaseState(ctx)
	return st.Phase, err
}

// PhaseVersion returns the current phase and its version, the number of
// transitions so far. While the migration is cutting over the version
// identifies the attempt: it changes with every transition.
func (s *Store) PhaseVersion(ctx context.Context) (migration.Phase, int64, error) {
	st, err := s.PhaseState(ctx)
	return st.Phase, st.Version, err
}

// PhaseState returns the current phase with its version, epoch and the
// reason it was entered. It reads consistently.
func (s *Store) PhaseState(ctx context.Context) (PhaseState, error) {
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: s.key(skMigration), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return PhaseState{}, fmt.Errorf("read phase of %s: %w", s.env.Suffix, err)
	}
	if len(out.Item) == 0 {
		return initialPhase, nil
	}
	var it migrationItem
	if err := unmarshal(out.Item, &it); err != nil {
		return PhaseState{}, fmt.Errorf("read phase of %s: %w", s.env.Suffix, err)
	}
	return it.PhaseState, nil
}

// Transition moves the migration from one phase to another. It is legal
// only if the lifecycle allows from → to (else an error wrapping
// ErrIllegalTransition, without any call) and only if the migration is in
// from when the write lands (else an error wrapping ErrConflict: someone
// else moved it first). The write is one DynamoDB transaction that
// updates the phase — conditional on the phase and the version read just
// before — and appends the event, so either both happen or neither. A
// successful transition notifies through the Store's Notifier; a refused
// or lost one writes and notifies nothing. reason is required.
func (s *Store) Transition(ctx context.Context, from, to migration.Phase, reason string) error {
	if err := checkTransition(from, to, reason); err != nil {
		return err
	}
	cur, err := s.PhaseState(ctx)
	if err != nil {
		return fmt.Errorf("transition %s → %s: %w", from, to, err)
	}
	if cur.Phase != from {
		since := "the start"
		if !cur.Since.IsZero() {
			since = fmtTime(cur.Since)
		}
		return fmt.Errorf("transition %s → %s: %w: the migration is %s (version %d) since %s", from, to, ErrConflict, cur.Phase, cur.Version, since)
	}
	return s.transition(ctx, cur, to, reason)
}

// TransitionFrom is Transition guarded on a state the caller read
// earlier: it fails with ErrConflict unless the migration is still at
// exactly that phase and version, so a decision taken on a stale read (an
// alarm from an earlier cutover attempt) cannot act on a newer one.
func (s *Store) TransitionFrom(ctx context.Context, from PhaseState, to migration.Phase, reason string) error {
	if err := checkTransition(from.Phase, to, reason); err != nil {
		return err
	}
	return s.transition(ctx, from, to, reason)
}

func checkTransition(from, to migration.Phase, reason string) error {
	if err := migration.CheckTransition(from, to); err != nil {
		if !errors.Is(err, ErrIllegalTransition) {
			err = fmt.Errorf("%w: %v", ErrIllegalTransition, err)
		}
		return fmt.Errorf("transition %s → %s: %w", from, to, err)
	}
	if strings.TrimSpace(reason) == "" {
		return fmt.Errorf("transition %s → %s: reason: required — every transition records why", from, to)
	}
	if len(reason) > 2048 {
		return fmt.Errorf("transition %s → %s: reason: at most 2048 characters", from, to)
	}
	return nil
}

func (s *Store) transition(ctx context.Context, cur PhaseState, to migration.Phase, reason string) error {
	from := cur.Phase
	now := s.env.Now().UTC()
	next := PhaseState{Phase: to, Version: cur.Version + 1, Epoch: cur.Epoch, Since: now, Reason: reason, Actor: s.actor}
	if to == migration.PhaseCuttingOver {
		next.Epoch++
	}
	names := map[string]string{"#kind": "kind", "#env": "env", "#phase": "phase", "#version": "version", "#epoch": "epoch", "#since": "since", "#reason": "reason", "#actor": "actor"}
	values := map[string]types.AttributeValue{
		":kind": str(kindMigration), ":env": str(s.env.Suffix), ":to": str(string(to)), ":next": num(next.Version),
		":epoch": num(next.Epoch), ":since": str(fmtTime(now)), ":reason": str(reason), ":actor": str(s.actor),
	}
	var cond string
	if cur.Version == 0 {
		cond = "attribute_not_exists(#pk)"
		names["#pk"] = AttrPK
	} else {
		cond = "#phase = :from AND #version = :version"
		values[":from"] = str(string(from))
		values[":version"] = num(cur.Version)
	}
	entry := migration.HistoryEntry{
		Time: now, Type: EventTransition, Actor: s.actor,
		Summary: fmt.Sprintf("%s → %s: %s", from, to, reason),
		Details: map[string]string{"from": string(from), "to": string(to), "reason": reason, "version": strconv.FormatInt(next.Version, 10), "epoch": strconv.FormatInt(next.Epoch, 10)},
	}
	put, err := s.eventPut(entry)
	if err != nil {
		return fmt.Errorf("transition %s → %s: %w", from, to, err)
	}
	_, err = s.api.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Update: &types.Update{
			TableName:                           aws.String(s.table),
			Key:                                 s.key(skMigration),
			UpdateExpression:                    aws.String("SET #kind = :kind, #env = :env, #phase = :to, #version = :next, #epoch = :epoch, #since = :since, #reason = :reason, #actor = :actor"),
			ConditionExpression:                 aws.String(cond),
			ExpressionAttributeNames:            names,
			ExpressionAttributeValues:           values,
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		}},
		{Put: put},
	}})
	if err != nil {
		var tce *types.TransactionCanceledException
		if errors.As(err, &tce) && len(tce.CancellationReasons) > 0 {
			switch r := tce.CancellationReasons[0]; aws.ToString(r.Code) {
			case "ConditionalCheckFailed", "TransactionConflict":
				now := "changed"
				if len(r.Item) > 0 {
					var it migrationItem
					if unmarshal(r.Item, &it) == nil {
						now = fmt.Sprintf("is %s (version %d)", it.Phase, it.Version)
					}
				}
				return fmt.Errorf("transition %s → %s: %w: the migration %s since version %d was read", from, to, ErrConflict, now, cur.Version)
			}
		}
		return fmt.Errorf("transition %s → %s: %w", from, to, err)
	}
	s.env.Log().Info("transition", "env", s.env.Suffix, "from", string(from), "to", string(to), "version", next.Version, "epoch", next.Epoch, "actor", s.actor)
	s.notify(ctx, migration.Notification{
		Env: s.env.Suffix, Severity: transitionSeverity(to), From: from, To: to, Reason: reason, Time: now,
		Subject: fmt.Sprintf("[cutover %s] %s -> %s", s.env.Suffix, from, to),
		Details: map[string]string{"version": strconv.FormatInt(next.Version, 10), "epoch": strconv.FormatInt(next.Epoch, 10), "actor": s.actor},
	})
	return nil
}

// transitionSeverity ranks a transition for the operators: a rollback is
// critical, a cutover starting is a warning (traffic moves), the rest is
// information.
func transitionSeverity(to migration.Phase) migration.Severity {
	switch to {
	case migration.PhaseRolledBack:
		return migration.SeverityCritical
	case migration.PhaseCuttingOver:
		return migration.SeverityWarning
	}
	return migration.SeverityInfo
}

// notify sends m through the Store's Notifier, if any. The transition it
// reports has happened already, so a failure does not undo or fail it:
// it is logged and recorded in the history as a "notification-failed"
// event, where Status shows it.
func (s *Store) notify(ctx context.Context, m migration.Notification) {
	if s.sink == nil {
		return
	}
	err := s.sink.Notify(ctx, m)
	if err == nil {
		return
	}
	s.env.Log().Error("notification failed", "env", s.env.Suffix, "subject", m.Subject, "error", err)
	rerr := s.Record(context.WithoutCancel(ctx), migration.HistoryEntry{
		Type: EventNotificationFailed, Summary: "notification failed: " + m.Subject,
		Details: map[string]string{"error": err.Error(), "subject": m.Subject},
	})
	if rerr != nil {
		s.env.Log().Error("recording a failed notification failed", "env", s.env.Suffix, "error", rerr)
	}
}

// Event types the Store itself records. Callers record their own (a
// rollback decision, an operator action) with any non-empty Type.
const (
	EventTransition         = "transition"
	EventNotificationFailed = "notification-failed"
	EventServerState        = "server-state"
	EventDatabaseStatus     = "database-status"
	EventValidation         = "validation"
	EventTrafficShift       = "traffic-shift"
	EventLeaseAcquired      = "lease-acquired"
	EventLeaseTakenOver     = "lease-taken-over"
	EventLeaseReleased      = "lease-released"
	EventLeaseLost          = "lease-lost"
)

type eventItem struct {
	itemHeader
	migration.HistoryEntry
}

// eventSeq orders the events written at one instant. It only ever grows
// in a process, and starts at the wall clock's nanoseconds, so that a
// later process (a second run against a simulated clock that stood still)
// sorts after an earlier one. It is a tiebreaker, never a time.
var eventSeq atomic.Uint64

func init() { eventSeq.Store(uint64(time.Now().UnixNano())) }

// eventKey returns a new event sort key:
// "event#<entry time>#<sequence>#<random>". Events sort by their time;
// events of one instant by the order this process wrote them; the random
// part keeps keys of concurrent processes apart.
func eventKey(t time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s%s#%016x#%s", skEventPrefix, fmtTime(t), eventSeq.Add(1), hex.EncodeToString(b[:]))
}

// maxItem is DynamoDB's item size limit; the Store refuses larger records
// with a clear error instead of DynamoDB's.
const maxItem = 400 * 1024

// eventPut builds the conditional Put of one event.
func (s *Store) eventPut(e migration.HistoryEntry) (*types.Put, error) {
	if e.Time.IsZero() {
		e.Time = s.env.Now()
	}
	e.Time = e.Time.UTC()
	if e.Actor == "" {
		e.Actor = s.actor
	}
	item, err := marshal(eventItem{itemHeader: itemHeader{PK: s.pk, SK: eventKey(e.Time), Kind: kindEvent}, HistoryEntry: e})
	if err != nil {
		return nil, fmt.Errorf("encode event: %w", err)
	}
	if n := approxSize(item); n > maxItem {
		return nil, fmt.Errorf("event %q is about %d bytes; DynamoDB items hold at most 400 KB", e.Summary, n)
	}
	return &types.Put{
		TableName:                aws.String(s.table),
		Item:                     item,
		ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames: map[string]string{"#pk": AttrPK},
	}, nil
}

// Record appends an entry to the migration's history (the decision
// ledger): a rollback decision, an error, an operator action. Type and
// Summary are required; a zero Time is the env clock's now, an empty
// Actor the Store's. Entries are never overwritten.
func (s *Store) Record(ctx context.Context, e migration.HistoryEntry) error {
	if strings.TrimSpace(e.Type) == "" || strings.TrimSpace(e.Summary) == "" {
		return errors.New("record event: type and summary are required")
	}
	put, err := s.eventPut(e)
	if err != nil {
		return fmt.Errorf("record event: %w", err)
	}
	if _, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: put.TableName, Item: put.Item, ConditionExpression: put.ConditionExpression, ExpressionAttributeNames: put.ExpressionAttributeNames,
	}); err != nil {
		return fmt.Errorf("record event %q: %w", e.Type, err)
	}
	return nil
}

// Events returns the history entries at or after since, oldest first,
// reading every page.
func (s *Store) Events(ctx context.Context, since time.Time) ([]migration.HistoryEntry, error) {
	p := dynamodb.NewQueryPaginator(s.api, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("#pk = :pk AND #sk BETWEEN :from AND :to"),
		ExpressionAttributeNames:  map[string]string{"#pk": AttrPK, "#sk": AttrSK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(s.pk), ":from": str(skEventPrefix + fmtTime(since)), ":to": str(skEventEnd)},
		ConsistentRead:            aws.Bool(true),
	})
	var out []migration.HistoryEntry
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("read events of %s: %w", s.env.Suffix, err)
		}
		for _, item := range page.Items {
			var it eventItem
			if err := unmarshal(item, &it); err != nil {
				return nil, fmt.Errorf("read events of %s: %w", s.env.Suffix, err)
			}
			if !it.Time.Before(since) {
				out = append(out, it.HistoryEntry)
			}
		}
	}
	return out, nil
}

// approxSize estimates an item's size the way DynamoDB counts it, closely
// enough to refuse records far over the limit before sending them.
func approxSize(item map[string]types.AttributeValue) int {
	n := 0
	for k, v := range item {
		n += len(k) + avSize(v)
	}
	return n
}

func avSize(v types.AttributeValue) int {
	switch x := v.(type) {
	case *types.AttributeValueMemberS:
		return len(x.Value)
	case *types.AttributeValueMemberN:
		return len(x.Value)/2 + 2
	case *types.AttributeValueMemberB:
		return len(x.Value)
	case *types.AttributeValueMemberM:
		n := 3
		for k, e := range x.Value {
			n += len(k) + avSize(e) + 1
		}
		return n
	case *types.AttributeValueMemberL:
		n := 3
		for _, e := range x.Value {
			n += avSize(e) + 1
		}
		return n
	case *types.AttributeValueMemberSS:
		n := 0
		for _, e := range x.Value {
			n += len(e)
		}
		return n
	}
	return 1
}

// Status is the whole picture of one migration, read in one Query.
type Status struct {
	Env   string     `json:"env"`
	Phase PhaseState `json:"phase"`
	// Servers, Databases (one per DMS task), Transfers and Validations
	// are sorted by name.
	Servers     []migration.ServerStatus     `json:"servers,omitempty"`
	Databases   []migration.ReplicationLag   `json:"databases,omitempty"`
	Transfers   []migration.TransferStatus   `json:"transfers,omitempty"`
	Validations []migration.ValidationResult `json:"validations,omitempty"`
	// Split is the last recorded traffic split; nil before the first.
	Split *SplitState `json:"split,omitempty"`
	// Lease is the current lease (possibly expired); nil when free.
	Lease *Lease `json:"lease,omitempty"`
	// Events are the latest events, oldest first.
	Events []migration.HistoryEntry `json:"events,omitempty"`
	// At is when the Status was read, on the env clock.
	At time.Time `json:"at"`
}

// SplitState is the recorded traffic split: the weights, the Route 53
// change that applied them and when.
type SplitState struct {
	migration.Split
	ChangeID string    `json:"changeId,omitempty"`
	At       time.Time `json:"at"`
	Actor    string    `json:"actor,omitempty"`
}

// Status reads the migration's whole state in one paginated Query of its
// partition, newest first: the phase, every server, database task,
// transfer and validation, the traffic split, the lease and the latest
// StoreOptions.StatusEvents events (it stops reading once it has them, so
// a long history costs nothing extra).
func (s *Store) Status(ctx context.Context) (Status, error) {
	st := Status{Env: s.env.Suffix, Phase: initialPhase, At: s.env.Now().UTC()}
	p := dynamodb.NewQueryPaginator(s.api, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": AttrPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(s.pk)},
		ScanIndexForward:          aws.Bool(false),
		ConsistentRead:            aws.Bool(true),
		Limit:                     aws.Int32(100),
	})
	var events []migration.HistoryEntry
	for p.HasMorePages() && len(events) < s.statusEvents {
		page, err := p.NextPage(ctx)
		if err != nil {
			return Status{}, fmt.Errorf("read status of %s: %w", s.env.Suffix, err)
		}
		for _, item := range page.Items {
			if len(events) >= s.statusEvents {
				break
			}
			if err := st.add(item, &events); err != nil {
				return Status{}, fmt.Errorf("read status of %s: %w", s.env.Suffix, err)
			}
		}
	}
	slices.Reverse(events)
	st.Events = events
	slices.SortFunc(st.Servers, func(a, b migration.ServerStatus) int { return strings.Compare(a.Name, b.Name) })
	slices.SortFunc(st.Databases, func(a, b migration.ReplicationLag) int { return strings.Compare(a.Task, b.Task) })
	slices.SortFunc(st.Transfers, func(a, b migration.TransferStatus) int { return strings.Compare(a.Task, b.Task) })
	slices.SortFunc(st.Validations, func(a, b migration.ValidationResult) int { return strings.Compare(a.Name, b.Name) })
	return st, nil
}

// add decodes one item of the partition into the status.
func (st *Status) add(item map[string]types.AttributeValue, events *[]migration.HistoryEntry) error {
	var h itemHeader
	if err := unmarshal(item, &h); err != nil {
		return err
	}
	switch h.Kind {
	case kindMigration:
		var it migrationItem
		if err := unmarshal(item, &it); err != nil {
			return err
		}
		st.Phase = it.PhaseState
	case kindServer:
		var it serverItem
		if err := unmarshal(item, &it); err != nil {
			return err
		}
		st.Servers = append(st.Servers, it.ServerStatus)
	case kindDatabase:
		var it databaseItem
		if err := unmarshal(item, &it); err != nil {
			return err
		}
		st.Databases = append(st.Databases, it.ReplicationLag)
	case kindTransfer:
		var it transferItem
		if err := unmarshal(item, &it); err != nil {
			return err
		}
		st.Transfers = append(st.Transfers, it.TransferStatus)
	case kindValidation:
		var it validationItem
		if err := unmarshal(item, &it); err != nil {
			return err
		}
		st.Validations = append(st.Validations, it.ValidationResult)
	case kindSplit:
		var it splitItem
		if err := unmarshal(item, &it); err != nil {
			return err
		}
		st.Split = &it.SplitState
	case kindLease:
		var it leaseItem
		if err := unmarshal(item, &it); err != nil {
			return err
		}
		st.Lease = &it.Lease
	case kindEvent:
		var it eventItem
		if err := unmarshal(item, &it); err != nil {
			return err
		}
		*events = append(*events, it.HistoryEntry)
	}
	return nil
}
