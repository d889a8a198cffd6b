package rollback

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/cutoverkit/cutover/migration"
)

// AlarmEvent is one CloudWatch alarm state change, however it arrived.
type AlarmEvent struct {
	AlarmName string `json:"alarmName"`
	AlarmARN  string `json:"alarmArn,omitempty"`
	// State and Previous are ALARM, OK or INSUFFICIENT_DATA.
	State    string    `json:"state"`
	Previous string    `json:"previous,omitempty"`
	Reason   string    `json:"reason,omitempty"`
	Time     time.Time `json:"time"`
	// Via is how it arrived: "alarm-action" (the alarm invoked the
	// function directly), "sns" or "eventbridge".
	Via string `json:"via"`
}

// alarmData is the shape CloudWatch uses for an alarm in a Lambda alarm
// action (alarmData) and in an EventBridge event (detail).
type alarmData struct {
	AlarmName string `json:"alarmName"`
	State     struct {
		Value     string `json:"value"`
		Reason    string `json:"reason"`
		Timestamp string `json:"timestamp"`
	} `json:"state"`
	PreviousState struct {
		Value string `json:"value"`
	} `json:"previousState"`
}

// parseAlarmTime reads the timestamps alarm messages carry
// ("2023-08-04T12:36:15.490+0000") or RFC 3339.
func parseAlarmTime(s string) time.Time {
	for _, layout := range []string{"2006-01-02T15:04:05.000-0700", "2006-01-02T15:04:05-0700", time.RFC3339Nano} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// DecodeAlarmEvents decodes an invocation payload: a Lambda alarm action
// ({"source":"aws.cloudwatch","alarmArn":...,"alarmData":...}), an
// EventBridge "CloudWatch Alarm State Change" event, or an SNS event whose
// messages are CloudWatch alarm notifications (one event per record).
// Anything else is an error naming what it is not.
func DecodeAlarmEvents(payload []byte) ([]AlarmEvent, error) {
	var probe struct {
		Source     string          `json:"source"`
		DetailType string          `json:"detail-type"`
		AlarmArn   string          `json:"alarmArn"`
		Records    json.RawMessage `json:"Records"`
	}
	if err := json.Unmarshal(payload, &probe); err != nil {
		return nil, fmt.Errorf("decode alarm event: not a JSON object: %w", err)
	}
	switch {
	case len(probe.Records) > 0:
		var ev events.SNSEvent
		if err := json.Unmarshal(payload, &ev); err != nil {
			return nil, fmt.Errorf("decode alarm event: SNS event: %w", err)
		}
		var out []AlarmEvent
		for i, rec := range ev.Records {
			if rec.EventSource != "aws:sns" {
				return nil, fmt.Errorf("decode alarm event: record %d comes from %q, not aws:sns", i, rec.EventSource)
			}
			var msg events.CloudWatchAlarmSNSPayload
			if err := json.Unmarshal([]byte(rec.SNS.Message), &msg); err != nil || msg.AlarmName == "" || msg.NewStateValue == "" {
				return nil, fmt.Errorf("decode alarm event: SNS record %d is not a CloudWatch alarm notification", i)
			}
			out = append(out, AlarmEvent{
				AlarmName: msg.AlarmName, AlarmARN: msg.AlarmARN, State: msg.NewStateValue, Previous: msg.OldStateValue,
				Reason: msg.NewStateReason, Time: parseAlarmTime(msg.StateChangeTime), Via: "sns",
			})
		}
		return out, nil
	case probe.Source == "aws.cloudwatch" && probe.DetailType == "CloudWatch Alarm State Change":
		var ev events.CloudWatchEvent
		if err := json.Unmarshal(payload, &ev); err != nil {
			return nil, fmt.Errorf("decode alarm event: EventBridge event: %w", err)
		}
		var d alarmData
		if err := json.Unmarshal(ev.Detail, &d); err != nil || d.AlarmName == "" || d.State.Value == "" {
			return nil, errors.New("decode alarm event: EventBridge event without an alarm name and state")
		}
		arn := ""
		if len(ev.Resources) > 0 {
			arn = ev.Resources[0]
		}
		return []AlarmEvent{{AlarmName: d.AlarmName, AlarmARN: arn, State: d.State.Value, Previous: d.PreviousState.Value,
			Reason: d.State.Reason, Time: parseAlarmTime(d.State.Timestamp), Via: "eventbridge"}}, nil
	case probe.Source == "aws.cloudwatch" && probe.AlarmArn != "":
		var ev struct {
			AlarmArn  string    `json:"alarmArn"`
			AlarmData alarmData `json:"alarmData"`
		}
		if err := json.Unmarshal(payload, &ev); err != nil {
			return nil, fmt.Errorf("decode alarm event: alarm action: %w", err)
		}
		d := ev.AlarmData
		if d.AlarmName == "" || d.State.Value == "" {
			return nil, errors.New("decode alarm event: alarm action without an alarm name and state")
		}
		return []AlarmEvent{{AlarmName: d.AlarmName, AlarmARN: ev.AlarmArn, State: d.State.Value, Previous: d.PreviousState.Value,
			Reason: d.State.Reason, Time: parseAlarmTime(d.State.Timestamp), Via: "alarm-action"}}, nil
	}
	return nil, errors.New("decode alarm event: neither a CloudWatch alarm action, an EventBridge alarm state change nor an SNS alarm notification")
}

// Action is what the handler did about one alarm event.
type Action string

// The actions of the handler.
const (
	ActionIgnored      Action = "ignored"     // not an ALARM state, or nothing to roll back
	ActionRolledBack   Action = "rolled-back" // this invocation rolled back
	ActionAlready      Action = "already-rolled-back"
	ActionFrozen       Action = "frozen"        // rollback called for but unsafe
	ActionHeld         Action = "held"          // the re-evaluation was inconclusive
	ActionNotConfirmed Action = "not-confirmed" // the policy does not confirm the alarm
)

// HandlerResult reports what happened to one alarm event.
type HandlerResult struct {
	Alarm   string  `json:"alarm"`
	State   string  `json:"state"`
	Action  Action  `json:"action"`
	Verdict Verdict `json:"verdict,omitempty"`
	Message string  `json:"message"`
}

// Handler is the rollback Lambda: on a CloudWatch alarm in ALARM it
// re-evaluates the policy itself and acts only on what it finds.
type Handler struct {
	Env      migration.Env
	Policy   Policy
	Metrics  Fetcher
	Router   Router
	Store    Store
	Notifier Notifier
	Reverse  ReverseReplication
}

// maxStaleRetries bounds how often the handler re-evaluates when the
// phase moved between its read and the executor's.
const maxStaleRetries = 3

// Handle handles one invocation payload (see DecodeAlarmEvents). For each
// alarm event in ALARM it reads the phase (nothing to do outside
// cutting-over and complete; a rolled-back phase is a duplicate delivery
// the executor recognises), re-evaluates the policy over the latest
// datapoints and the reverse replication lag, records the decision in the
// ledger, and:
//
//   - Rollback: calls the executor as "lambda" with the phase version it
//     read as the epoch, so a duplicate or concurrent delivery makes no
//     second transition and no second notification;
//   - Freeze: notifies as critical and leaves traffic where it is;
//   - Hold or Continue: notifies (warning) that the alarm fired but the
//     policy does not confirm it, and leaves traffic where it is.
//
// It returns an error only when something failed (a read, a write), so
// Lambda retries the asynchronous invocation; the work is idempotent.
func (h *Handler) Handle(ctx context.Context, payload json.RawMessage) ([]HandlerResult, error) {
	evs, err := DecodeAlarmEvents(payload)
	if err != nil {
		return nil, err
	}
	var out []HandlerResult
	var errs []error
	for _, ev := range evs {
		res, err := h.handle(ctx, ev)
		out = append(out, res)
		if err != nil {
			errs = append(errs, fmt.Errorf("alarm %s: %w", ev.AlarmName, err))
		}
	}
	return out, errors.Join(errs...)
}

// Invoke is Handle over raw bytes, the shape of an in-process Lambda
// (fakecloud's SetHandler): the response is the JSON of the results.
func (h *Handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	res, err := h.Handle(ctx, payload)
	if err != nil {
		return nil, err
	}
	return json.Marshal(res)
}

func (h *Handler) handle(ctx context.Context, ev AlarmEvent) (HandlerResult, error) {
	res := HandlerResult{Alarm: ev.AlarmName, State: ev.State}
	trigger := map[string]string{"alarm": ev.AlarmName, "alarmArn": ev.AlarmARN, "alarmState": ev.State, "alarmReason": ev.Reason, "via": ev.Via}
	if !ev.Time.IsZero() {
		trigger["alarmTime"] = ev.Time.Format(time.RFC3339)
	}
	if ev.State != "ALARM" {
		res.Action, res.Message = ActionIgnored, "alarm is "+ev.State+"; nothing to do"
		return res, h.Store.Record(ctx, entry(h.Env, EntryAlarm, "lambda", ev.AlarmName+" → "+ev.State, trigger))
	}
	x := &Executor{Env: h.Env, Router: h.Router, Store: h.Store, Notifier: h.Notifier, Reverse: h.Reverse}
	for attempt := 1; attempt <= maxStaleRetries; attempt++ {
		phase, version, err := h.Store.PhaseVersion(ctx)
		if err != nil {
			return res, fmt.Errorf("read phase: %w", err)
		}
		switch phase {
		case migration.PhaseRolledBack:
			r, err := x.Rollback(ctx, Request{Reason: "alarm " + ev.AlarmName, Actor: "lambda", Trigger: trigger})
			res.Action, res.Message = ActionAlready, r.Message
			return res, err
		case migration.PhaseCuttingOver, migration.PhaseComplete:
		default:
			res.Action, res.Message = ActionIgnored, "phase is "+string(phase)+"; no traffic on green to move back"
			return res, h.Store.Record(ctx, entry(h.Env, EntryAlarm, "lambda", ev.AlarmName+" in ALARM while "+string(phase)+"; ignored", trigger))
		}
		d, err := h.evaluate(ctx)
		if err != nil {
			return res, err
		}
		res.Verdict = d.Verdict
		details := merge(trigger, DecisionDetails(h.Policy, d))
		if err := h.Store.Record(ctx, entry(h.Env, EntryAlarm, "lambda", ev.AlarmName+" in ALARM; re-evaluated: "+string(d.Verdict)+": "+d.Reason, details)); err != nil {
			return res, fmt.Errorf("record: %w", err)
		}
		switch d.Verdict {
		case Rollback:
			r, err := x.Rollback(ctx, Request{Reason: "alarm " + ev.AlarmName + ": " + d.Reason, Actor: "lambda", Epoch: version, Decision: &d, Policy: h.Policy, Trigger: trigger})
			if err == nil && r.Outcome == OutcomeStale {
				continue
			}
			res.Message = r.Message
			res.Action = ActionRolledBack
			if r.Outcome == OutcomeAlreadyRolledBack {
				res.Action = ActionAlready
			}
			return res, err
		case Freeze:
			res.Action, res.Message = ActionFrozen, d.Reason
			return res, h.Notifier.Notify(ctx, migration.Notification{
				Env: h.Env.Suffix, Severity: migration.SeverityCritical, Subject: "Rollback FROZEN: alarm " + ev.AlarmName + " fired but moving back is unsafe",
				Reason: d.Reason, Time: h.Env.Now(), From: phase, Details: details,
			})
		default:
			res.Action, res.Message = ActionHeld, d.Reason
			if d.Verdict == Continue {
				res.Action = ActionNotConfirmed
			}
			return res, h.Notifier.Notify(ctx, migration.Notification{
				Env: h.Env.Suffix, Severity: migration.SeverityWarning, Subject: "Alarm " + ev.AlarmName + " fired; the rollback policy says " + string(d.Verdict),
				Reason: "traffic left in place; a human decides: " + d.Reason, Time: h.Env.Now(), From: phase, Details: details,
			})
		}
	}
	res.Action, res.Message = ActionIgnored, "the phase kept changing while this alarm was handled; left for the next delivery or an operator"
	return res, nil
}

// evaluate fetches the latest data and evaluates the policy afresh (the
// Lambda keeps no memory between invocations).
func (h *Handler) evaluate(ctx context.Context) (Decision, error) {
	now := h.Env.Now()
	series, err := h.Metrics.Fetch(ctx, h.Policy, now)
	if err != nil {
		return Decision{}, fmt.Errorf("fetch metrics: %w", err)
	}
	obs := Observations{At: now, Series: series}
	if lag, err := h.Reverse.ReverseLag(ctx); err == nil {
		obs.ReverseLag = &lag
	}
	return Evaluate(h.Policy, obs), nil
}

// ConfigEnvVar is the environment variable that carries the Lambda's
// LambdaConfig as JSON (encrypted at rest with the env's KMS key).
const ConfigEnvVar = "CUTOVER_ROLLBACK_CONFIG"

// LambdaConfig is what the rollback Lambda needs to build its Handler:
// the env, the policy, and the IDs of what it acts on. EnsureFunction
// writes it to ConfigEnvVar; the Lambda's main reads it with
// LambdaConfigFromEnv.
type LambdaConfig struct {
	Suffix  string `json:"suffix"`
	Region  string `json:"region"`
	Account string `json:"account"`
	Policy  Policy `json:"policy"`
	// HostedZoneID, ZoneName and RecordNames are what the Router shifts.
	HostedZoneID string   `json:"hostedZoneId"`
	ZoneName     string   `json:"zoneName,omitempty"`
	RecordNames  []string `json:"recordNames,omitempty"`
	// TableName is the tracking table; TopicARN the notification topic.
	TableName string `json:"tableName"`
	TopicARN  string `json:"topicArn"`
	// ReverseTaskARN is the reverse DMS task; ForwardTaskARN the forward
	// one, which a rollback before the database switch stops (the switch
	// keeps one writer, see ReverseReplication).
	ReverseTaskARN string `json:"reverseTaskArn"`
	ForwardTaskARN string `json:"forwardTaskArn,omitempty"`
}

// Validate checks the configuration is complete and fits Lambda's 4 KB
// environment limit.
func (c LambdaConfig) Validate() error {
	var errs []error
	if err := c.Env().Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Policy.Validate(); err != nil {
		errs = append(errs, err)
	}
	for field, v := range map[string]string{"hostedZoneId": c.HostedZoneID, "tableName": c.TableName, "topicArn": c.TopicARN, "reverseTaskArn": c.ReverseTaskARN} {
		if v == "" {
			errs = append(errs, fmt.Errorf("lambdaConfig.%s: required", field))
		}
	}
	b, _ := json.Marshal(c)
	if n := len(ConfigEnvVar) + len(b); n > 4096 {
		errs = append(errs, fmt.Errorf("lambdaConfig: %d bytes exceed the 4 KB Lambda allows for environment variables", n))
	}
	return errors.Join(errs...)
}

// Env returns the env the configuration names (no clock, reporter or
// logger: the Lambda's wall clock and nothing to report).
func (c LambdaConfig) Env() migration.Env {
	return migration.Env{Suffix: c.Suffix, Region: c.Region, Account: c.Account}
}

// LambdaConfigFromEnv reads and validates the configuration from the
// process environment (ConfigEnvVar).
func LambdaConfigFromEnv() (LambdaConfig, error) {
	raw := os.Getenv(ConfigEnvVar)
	if strings.TrimSpace(raw) == "" {
		return LambdaConfig{}, fmt.Errorf("rollback lambda: %s is not set", ConfigEnvVar)
	}
	var c LambdaConfig
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		return LambdaConfig{}, fmt.Errorf("rollback lambda: %s: %w", ConfigEnvVar, err)
	}
	if err := c.Validate(); err != nil {
		return LambdaConfig{}, fmt.Errorf("rollback lambda: %w", err)
	}
	return c, nil
}

// StartLambda runs h as the Lambda function's handler (aws-lambda-go). It
// does not return. The Lambda's main builds h from LambdaConfigFromEnv and
// the real Router, Store, Notifier and reverse replication.
func StartLambda(h *Handler) { lambda.Start(h.Handle) }
