package fakecloud

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// Run Command: SendCommand, ListCommands, ListCommandInvocations,
// GetCommandInvocation. A command's invocations are computed lazily from
// fake time: its targets resolve SSMTargetResolution after the send, then
// the instances run in batches of MaxConcurrency, each invocation Pending
// for SSMDispatch and InProgress for SSMRunTime before it reaches its
// outcome. When the errors of finished batches exceed MaxErrors, the
// invocations of the later batches are Cancelled without running. The
// command's own status is Success once every invocation is terminal and
// the errors stayed within MaxErrors — as in AWS, Success does not mean
// every instance succeeded.

type fakeCommand struct {
	ID                string                 `json:"id"`
	Document          string                 `json:"document"`
	DocumentVersion   string                 `json:"documentVersion"` // as requested
	Version           int                    `json:"version"`         // resolved
	Steps             []string               `json:"steps"`
	Comment           string                 `json:"comment,omitempty"`
	Parameters        map[string][]string    `json:"parameters,omitempty"`
	Targets           []fakeTarget           `json:"targets,omitempty"`
	InstanceIDs       []string               `json:"instanceIds,omitempty"`
	Resolved          []string               `json:"resolved"`
	Names             map[string]string      `json:"names,omitempty"` // instance ID -> Name tag
	Offline           map[string]bool        `json:"offline,omitempty"`
	Outcomes          map[string]fakeOutcome `json:"outcomes,omitempty"` // by instance, as scripted at send time
	Requested         time.Time              `json:"requested"`
	ResolveAt         time.Time              `json:"resolveAt"`
	DeliveryTimeout   int32                  `json:"deliveryTimeout"`
	MaxConcurrency    string                 `json:"maxConcurrency"`
	MaxErrors         string                 `json:"maxErrors"`
	LogGroup          string                 `json:"logGroup,omitempty"`
	CloudWatchEnabled bool                   `json:"cloudWatchEnabled,omitempty"`
}

type fakeTarget struct {
	Key    string   `json:"key"`
	Values []string `json:"values"`
}

// invocation is one instance's computed state at a moment.
type invocation struct {
	InstanceID string
	Name       string
	Status     types.CommandInvocationStatus
	Details    string
	Start, End time.Time // End is zero until terminal
	Code       int32
	// Plugins holds each step's status and output.
	Plugins []pluginState
}

type pluginState struct {
	Name   string
	Status types.CommandPluginStatus
	Output string
	Code   int32
}

var (
	maxConcurrencyRe = regexp.MustCompile(`^([1-9][0-9]*|[1-9][0-9]%|[1-9]%|100%)$`)
	maxErrorsRe      = regexp.MustCompile(`^([1-9][0-9]*|[0]|[1-9][0-9]%|[0-9]%|100%)$`)
)

// rate turns a MaxConcurrency or MaxErrors value into a count of n.
func rate(v string, n int, atLeastOne bool) int {
	if p, ok := strings.CutSuffix(v, "%"); ok {
		pct, _ := strconv.Atoi(p)
		c := int(math.Ceil(float64(n) * float64(pct) / 100))
		if atLeastOne && c < 1 {
			c = 1
		}
		return c
	}
	c, _ := strconv.Atoi(v)
	return c
}

func terminal(s types.CommandInvocationStatus) bool {
	switch s {
	case types.CommandInvocationStatusSuccess, types.CommandInvocationStatusFailed, types.CommandInvocationStatusTimedOut, types.CommandInvocationStatusCancelled:
		return true
	}
	return false
}

// invocations computes every invocation of cmd at now, plus the number of
// errors of the finished batches and whether MaxErrors stopped the command.
func (f *SSM) invocations(cmd *fakeCommand, now time.Time) (invs []invocation, resolved bool, errs int, stopped bool) {
	if now.Before(cmd.ResolveAt) {
		return nil, false, 0, false
	}
	n := len(cmd.Resolved)
	conc := max(rate(cmd.MaxConcurrency, n, true), 1)
	allowed := rate(cmd.MaxErrors, n, false)
	start := cmd.ResolveAt
	for b := 0; b*conc < n; b++ {
		batch := cmd.Resolved[b*conc : min((b+1)*conc, n)]
		end := start
		if stopped {
			for _, id := range batch {
				inv := invocation{InstanceID: id, Name: cmd.Names[id], Start: start}
				if now.Before(start) {
					inv.Status, inv.Details = types.CommandInvocationStatusPending, "Pending"
				} else {
					inv.Status, inv.Details, inv.End, inv.Code = types.CommandInvocationStatusCancelled, "Cancelled", start, -1
				}
				for _, s := range cmd.Steps {
					inv.Plugins = append(inv.Plugins, pluginState{Name: s, Status: types.CommandPluginStatus(inv.Status), Code: -1})
				}
				invs = append(invs, inv)
			}
			continue
		}
		failed := 0
		for _, id := range batch {
			invs = append(invs, f.runOne(cmd, id, start, now))
			if e := f.finalEnd(cmd, id, start); e.After(end) {
				end = e
			}
			if f.finalStatus(cmd, id) != types.CommandInvocationStatusSuccess {
				failed++
			}
		}
		// The schedule is fixed at send time: whether later batches run
		// depends on the outcomes of the earlier ones, not on now.
		errs += failed
		stopped = errs > allowed
		start = end
	}
	return invs, true, errs, stopped
}

func (f *SSM) finalStatus(cmd *fakeCommand, id string) types.CommandInvocationStatus {
	if cmd.Offline[id] {
		return types.CommandInvocationStatusTimedOut
	}
	if o, ok := cmd.Outcomes[id]; ok {
		return types.CommandInvocationStatus(o.Status)
	}
	return types.CommandInvocationStatusSuccess
}

func (f *SSM) finalEnd(cmd *fakeCommand, id string, start time.Time) time.Time {
	if cmd.Offline[id] {
		return start.Add(time.Duration(cmd.DeliveryTimeout) * time.Second)
	}
	return start.Add(SSMDispatch + SSMRunTime)
}

// runOne computes one invocation of a batch that started at start.
func (f *SSM) runOne(cmd *fakeCommand, id string, start, now time.Time) invocation {
	inv := invocation{InstanceID: id, Name: cmd.Names[id], Start: start, Code: -1}
	end := f.finalEnd(cmd, id, start)
	final := f.finalStatus(cmd, id)
	switch {
	case now.Before(start.Add(SSMDispatch)) || (cmd.Offline[id] && now.Before(end)):
		inv.Status, inv.Details = types.CommandInvocationStatusPending, "Pending"
	case now.Before(end):
		inv.Status, inv.Details = types.CommandInvocationStatusInProgress, "InProgress"
	default:
		inv.Status, inv.End = final, end
		switch {
		case cmd.Offline[id]:
			inv.Details = "DeliveryTimedOut"
		case final == types.CommandInvocationStatusTimedOut:
			inv.Details = "ExecutionTimedOut"
		default:
			inv.Details = string(final)
		}
	}
	out := "ok"
	if o, ok := cmd.Outcomes[id]; ok {
		out = o.Output
	}
	for i, s := range cmd.Steps {
		p := pluginState{Name: s, Code: -1}
		last := i == len(cmd.Steps)-1
		switch {
		case !terminal(inv.Status):
			p.Status = types.CommandPluginStatus(inv.Status)
		case cmd.Offline[id]:
			p.Status = types.CommandPluginStatusTimedOut
		case !last:
			p.Status, p.Output, p.Code = types.CommandPluginStatusSuccess, "ok", 0
		default:
			p.Status, p.Output = types.CommandPluginStatus(final), out
			switch final {
			case types.CommandInvocationStatusSuccess:
				p.Code = 0
			case types.CommandInvocationStatusFailed:
				p.Code = 1
			}
		}
		inv.Plugins = append(inv.Plugins, p)
	}
	if terminal(inv.Status) && len(inv.Plugins) > 0 {
		inv.Code = inv.Plugins[len(inv.Plugins)-1].Code
	}
	return inv
}

// commandStatus summarises a command at now.
func (f *SSM) commandStatus(cmd *fakeCommand, now time.Time) types.Command {
	invs, resolved, errs, stopped := f.invocations(cmd, now)
	c := types.Command{
		CommandId: aws.String(cmd.ID), DocumentName: aws.String(cmd.Document), DocumentVersion: aws.String(cmd.DocumentVersion),
		Parameters: cmd.Parameters, InstanceIds: slices.Clone(cmd.InstanceIDs), RequestedDateTime: aws.Time(cmd.Requested),
		ExpiresAfter:   aws.Time(cmd.Requested.Add(time.Duration(cmd.DeliveryTimeout) * time.Second)),
		MaxConcurrency: aws.String(cmd.MaxConcurrency), MaxErrors: aws.String(cmd.MaxErrors), TimeoutSeconds: aws.Int32(cmd.DeliveryTimeout),
	}
	if cmd.Comment != "" {
		c.Comment = aws.String(cmd.Comment)
	}
	for _, t := range cmd.Targets {
		c.Targets = append(c.Targets, types.Target{Key: aws.String(t.Key), Values: slices.Clone(t.Values)})
	}
	if cmd.LogGroup != "" || cmd.CloudWatchEnabled {
		c.CloudWatchOutputConfig = &types.CloudWatchOutputConfig{CloudWatchLogGroupName: aws.String(cmd.LogGroup), CloudWatchOutputEnabled: cmd.CloudWatchEnabled}
	}
	if !resolved {
		c.Status, c.StatusDetails = types.CommandStatusPending, aws.String("Pending")
		return c
	}
	c.TargetCount = int32(len(invs))
	done := true
	for _, inv := range invs {
		if !terminal(inv.Status) {
			done = false
			continue
		}
		c.CompletedCount++
		if inv.Details == "DeliveryTimedOut" {
			c.DeliveryTimedOutCount++
		} else if inv.Status != types.CommandInvocationStatusSuccess && inv.Status != types.CommandInvocationStatusCancelled {
			c.ErrorCount++
		}
	}
	switch {
	case !done:
		c.Status, c.StatusDetails = types.CommandStatusInProgress, aws.String("InProgress")
	case stopped || errs > rate(cmd.MaxErrors, len(invs), false):
		c.Status, c.StatusDetails = types.CommandStatusFailed, aws.String("Failed")
	default:
		c.Status, c.StatusDetails = types.CommandStatusSuccess, aws.String("Success")
	}
	return c
}

func (f *SSM) command(id string) (*fakeCommand, error) {
	for _, c := range f.st().Commands {
		if c.ID == id {
			return c, nil
		}
	}
	return nil, apiError("InvalidCommandId", "The specified command ID is not valid: %s", id)
}

// checkParameters validates command or association parameters against a
// document: every name declared, every value matching the declared
// pattern or allowed values, every parameter without a default given.
func checkParameters(doc *ssmDocContent, params map[string][]string) error {
	for _, name := range sortedKeys(params) {
		p, ok := doc.Parameters[name]
		if !ok {
			return apiError("InvalidParameters", "Parameter %q is not defined in the document; you can only supply values to parameters defined in the SSM document.", name)
		}
		vals := params[name]
		if p.Type == "String" && len(vals) != 1 {
			return apiError("InvalidParameters", "Parameter %q is a String and takes one value, got %d.", name, len(vals))
		}
		for _, v := range vals {
			if p.AllowedPattern != "" {
				re, err := regexp.Compile(p.AllowedPattern)
				if err != nil || !re.MatchString(v) {
					return apiError("InvalidParameters", "Parameter %q value %q does not match the allowed pattern %s.", name, v, p.AllowedPattern)
				}
			}
			if len(p.AllowedValues) > 0 && !slices.Contains(p.AllowedValues, v) {
				return apiError("InvalidParameters", "Parameter %q value %q is not one of the allowed values %v.", name, v, p.AllowedValues)
			}
		}
	}
	for _, name := range sortedKeys(doc.Parameters) {
		if _, given := params[name]; !given && len(doc.Parameters[name].Default) == 0 {
			return apiError("InvalidParameters", "Parameter %q is required: it has no default value.", name)
		}
	}
	return nil
}

// resolveTargets returns the managed instances a target list selects.
func (f *SSM) resolveTargets(targets []types.Target) ([]string, []fakeTarget, error) {
	if len(targets) > 5 {
		return nil, nil, apiError("ValidationException", "1 validation error detected: Value at 'targets' failed to satisfy constraint: Member must have length less than or equal to 5")
	}
	s := f.st()
	var out []fakeTarget
	selected := map[string]bool{}
	for i, t := range targets {
		key := aws.ToString(t.Key)
		if len(t.Values) == 0 || len(t.Values) > 50 {
			return nil, nil, apiError("ValidationException", "targets[%d]: 1 to 50 values required", i)
		}
		out = append(out, fakeTarget{Key: key, Values: slices.Clone(t.Values)})
		var match func(*fakeManagedInstance) bool
		switch {
		case key == "InstanceIds":
			match = func(m *fakeManagedInstance) bool { return slices.Contains(t.Values, m.ID) }
		case key == "tag-key":
			match = func(m *fakeManagedInstance) bool {
				for _, v := range t.Values {
					if _, ok := m.Tags[v]; ok {
						return true
					}
				}
				return false
			}
		case strings.HasPrefix(key, "tag:") && len(key) > 4:
			k := strings.TrimPrefix(key, "tag:")
			match = func(m *fakeManagedInstance) bool { v, ok := m.Tags[k]; return ok && slices.Contains(t.Values, v) }
		default:
			return nil, nil, apiError("ValidationException", "targets[%d]: key %q is not supported (tag:<key>, tag-key or InstanceIds)", i, key)
		}
		// Several targets intersect: an instance must match all of them.
		for _, id := range sortedKeys(s.Instances) {
			m := match(s.Instances[id])
			if i == 0 && m {
				selected[id] = true
			} else if i > 0 && !m {
				delete(selected, id)
			}
		}
	}
	return sortedKeys(selected), out, nil
}

// SendCommand runs a document on instances given by ID or by targets.
func (f *SSM) SendCommand(ctx context.Context, in *ssm.SendCommandInput, _ ...func(*ssm.Options)) (*ssm.SendCommandOutput, error) {
	var out *ssm.SendCommandOutput
	err := f.c.call(ctx, ssm.ServiceID, "SendCommand", true, func() error {
		s := f.st()
		d, err := f.document(aws.ToString(in.DocumentName))
		if err != nil {
			return err
		}
		ref := aws.ToString(in.DocumentVersion)
		v, err := d.version(ref)
		if err != nil {
			return err
		}
		if st := f.versionStatus(v); st != types.DocumentStatusActive {
			return apiError("InvalidDocument", "Document %s version %d is %s, not Active.", d.Name, v.Version, st)
		}
		if in.DocumentHash != nil && *in.DocumentHash != ssmContentHash(v.Content) {
			return apiError("InvalidDocument", "The document hash does not match the document %s version %d.", d.Name, v.Version)
		}
		doc, err := parseSSMContent(v.Content)
		if err != nil {
			return err
		}
		if len(in.InstanceIds) > 0 && len(in.Targets) > 0 {
			return apiError("ValidationException", "InstanceIds and Targets cannot both be specified")
		}
		if len(in.InstanceIds) == 0 && len(in.Targets) == 0 {
			return apiError("ValidationException", "Specify InstanceIds or Targets")
		}
		if len(in.InstanceIds) > 50 {
			return apiError("ValidationException", "at most 50 InstanceIds")
		}
		for _, id := range in.InstanceIds {
			if _, ok := s.Instances[id]; !ok {
				return apiError("InvalidInstanceId", "Instance %s is not a managed instance (not registered with SSM or not online).", id)
			}
		}
		if err := checkParameters(doc, in.Parameters); err != nil {
			return err
		}
		timeout := aws.ToInt32(in.TimeoutSeconds)
		if in.TimeoutSeconds == nil {
			timeout = 3600
		}
		if timeout < 30 || timeout > 2592000 {
			return apiError("ValidationException", "TimeoutSeconds %d outside 30..2592000", timeout)
		}
		conc, maxErr := "50", "0"
		if in.MaxConcurrency != nil {
			conc = *in.MaxConcurrency
		}
		if in.MaxErrors != nil {
			maxErr = *in.MaxErrors
		}
		if !maxConcurrencyRe.MatchString(conc) {
			return apiError("ValidationException", "MaxConcurrency %q is not valid", conc)
		}
		if !maxErrorsRe.MatchString(maxErr) {
			return apiError("ValidationException", "MaxErrors %q is not valid", maxErr)
		}
		if len(aws.ToString(in.Comment)) > 100 {
			return apiError("ValidationException", "Comment is longer than 100 characters")
		}
		cmd := &fakeCommand{
			ID: f.c.newUUID(), Document: d.Name, DocumentVersion: ref, Version: v.Version, Comment: aws.ToString(in.Comment),
			Parameters: maps.Clone(in.Parameters), InstanceIDs: slices.Clone(in.InstanceIds), Requested: f.c.now(),
			DeliveryTimeout: timeout, MaxConcurrency: conc, MaxErrors: maxErr,
			Names: map[string]string{}, Offline: map[string]bool{}, Outcomes: map[string]fakeOutcome{},
		}
		if cmd.DocumentVersion == "" {
			cmd.DocumentVersion = "$DEFAULT"
		}
		for _, st := range doc.MainSteps {
			cmd.Steps = append(cmd.Steps, st.Name)
		}
		if cw := in.CloudWatchOutputConfig; cw != nil {
			if g := aws.ToString(cw.CloudWatchLogGroupName); g != "" && !logGroupNameRe.MatchString(g) {
				return apiError("ValidationException", "CloudWatchLogGroupName %q is not valid", g)
			}
			cmd.LogGroup, cmd.CloudWatchEnabled = aws.ToString(cw.CloudWatchLogGroupName), cw.CloudWatchOutputEnabled
		}
		if len(in.Targets) > 0 {
			cmd.Resolved, cmd.Targets, err = f.resolveTargets(in.Targets)
			if err != nil {
				return err
			}
			cmd.ResolveAt = cmd.Requested.Add(SSMTargetResolution)
		} else {
			cmd.Resolved = slices.Sorted(slices.Values(slices.Compact(slices.Sorted(slices.Values(in.InstanceIds)))))
			cmd.ResolveAt = cmd.Requested
		}
		for _, id := range cmd.Resolved {
			m := s.Instances[id]
			cmd.Names[id] = m.Tags["Name"]
			cmd.Offline[id] = m.Offline
			if o, ok := s.Outcomes[id+"|"+d.Name]; ok {
				cmd.Outcomes[id] = *o
			} else if o, ok := s.Outcomes[AnyInstance+"|"+d.Name]; ok {
				cmd.Outcomes[id] = *o
			}
		}
		s.Commands = append(s.Commands, cmd)
		c := f.commandStatus(cmd, f.c.now())
		out = &ssm.SendCommandOutput{Command: &c}
		return nil
	})
	return out, err
}

// ListCommands lists commands, newest first: one by CommandId, or those
// sent to InstanceId, filtered by DocumentName or Status.
func (f *SSM) ListCommands(ctx context.Context, in *ssm.ListCommandsInput, _ ...func(*ssm.Options)) (*ssm.ListCommandsOutput, error) {
	var out *ssm.ListCommandsOutput
	err := f.c.call(ctx, ssm.ServiceID, "ListCommands", false, func() error {
		now := f.c.now()
		var cmds []*fakeCommand
		if in.CommandId != nil {
			c, err := f.command(*in.CommandId)
			if err != nil {
				return err
			}
			cmds = []*fakeCommand{c}
		} else {
			cmds = slices.Clone(f.st().Commands)
			slices.Reverse(cmds)
		}
		var all []types.Command
		for _, c := range cmds {
			if in.InstanceId != nil && !slices.Contains(c.Resolved, *in.InstanceId) {
				continue
			}
			st := f.commandStatus(c, now)
			if !matchCommandFilters(in.Filters, c.Document, string(st.Status)) {
				continue
			}
			all = append(all, st)
		}
		items, next, err := page(all, in.NextToken, pageSize(in.MaxResults, 50))
		if err != nil {
			return err
		}
		out = &ssm.ListCommandsOutput{Commands: items, NextToken: next}
		return nil
	})
	return out, err
}

func matchCommandFilters(filters []types.CommandFilter, document, status string) bool {
	for _, flt := range filters {
		v := aws.ToString(flt.Value)
		switch flt.Key {
		case types.CommandFilterKeyDocumentName:
			if v != document {
				return false
			}
		case types.CommandFilterKeyStatus:
			if v != status {
				return false
			}
		}
	}
	return true
}

func truncateOutput(s string) string {
	if len(s) <= ssmPluginOutputMax {
		return s
	}
	return s[:ssmPluginOutputMax] + "\n---Output truncated---"
}

// ListCommandInvocations lists the invocations of a command (or of every
// command on InstanceId). With Details it includes each step's status and
// output, truncated to 2500 characters as AWS does. Before the command's
// targets resolve, the list is empty.
func (f *SSM) ListCommandInvocations(ctx context.Context, in *ssm.ListCommandInvocationsInput, _ ...func(*ssm.Options)) (*ssm.ListCommandInvocationsOutput, error) {
	var out *ssm.ListCommandInvocationsOutput
	err := f.c.call(ctx, ssm.ServiceID, "ListCommandInvocations", false, func() error {
		now := f.c.now()
		var cmds []*fakeCommand
		if in.CommandId != nil {
			c, err := f.command(*in.CommandId)
			if err != nil {
				return err
			}
			cmds = []*fakeCommand{c}
		} else {
			cmds = f.st().Commands
		}
		var all []types.CommandInvocation
		for _, c := range cmds {
			invs, _, _, _ := f.invocations(c, now)
			for _, inv := range invs {
				if in.InstanceId != nil && inv.InstanceID != *in.InstanceId {
					continue
				}
				if !matchCommandFilters(in.Filters, c.Document, string(inv.Status)) {
					continue
				}
				ci := types.CommandInvocation{
					CommandId: aws.String(c.ID), InstanceId: aws.String(inv.InstanceID), DocumentName: aws.String(c.Document),
					DocumentVersion: aws.String(strconv.Itoa(c.Version)), Status: inv.Status, StatusDetails: aws.String(inv.Details),
					RequestedDateTime: aws.Time(c.Requested),
				}
				if inv.Name != "" {
					ci.InstanceName = aws.String(inv.Name)
				}
				if c.Comment != "" {
					ci.Comment = aws.String(c.Comment)
				}
				if c.LogGroup != "" || c.CloudWatchEnabled {
					ci.CloudWatchOutputConfig = &types.CloudWatchOutputConfig{CloudWatchLogGroupName: aws.String(c.LogGroup), CloudWatchOutputEnabled: c.CloudWatchEnabled}
				}
				if in.Details {
					for _, p := range inv.Plugins {
						cp := types.CommandPlugin{Name: aws.String(p.Name), Status: p.Status, StatusDetails: aws.String(string(p.Status)), ResponseCode: p.Code, Output: aws.String(truncateOutput(p.Output))}
						if terminal(inv.Status) {
							cp.ResponseStartDateTime, cp.ResponseFinishDateTime = aws.Time(inv.Start.Add(SSMDispatch)), aws.Time(inv.End)
						}
						ci.CommandPlugins = append(ci.CommandPlugins, cp)
					}
				}
				all = append(all, ci)
			}
		}
		items, next, err := page(all, in.NextToken, pageSize(in.MaxResults, 50))
		if err != nil {
			return err
		}
		out = &ssm.ListCommandInvocationsOutput{CommandInvocations: items, NextToken: next}
		return nil
	})
	return out, err
}

// GetCommandInvocation returns one step's result on one instance. A
// document with several steps needs PluginName (the step name).
func (f *SSM) GetCommandInvocation(ctx context.Context, in *ssm.GetCommandInvocationInput, _ ...func(*ssm.Options)) (*ssm.GetCommandInvocationOutput, error) {
	var out *ssm.GetCommandInvocationOutput
	err := f.c.call(ctx, ssm.ServiceID, "GetCommandInvocation", false, func() error {
		c, err := f.command(aws.ToString(in.CommandId))
		if err != nil {
			return err
		}
		invs, _, _, _ := f.invocations(c, f.c.now())
		idx := slices.IndexFunc(invs, func(i invocation) bool { return i.InstanceID == aws.ToString(in.InstanceId) })
		if idx < 0 {
			return apiError("InvocationDoesNotExist", "The command %s has no invocation on %s (yet).", c.ID, aws.ToString(in.InstanceId))
		}
		inv := invs[idx]
		var p pluginState
		switch {
		case in.PluginName != nil:
			j := slices.IndexFunc(inv.Plugins, func(p pluginState) bool { return p.Name == *in.PluginName })
			if j < 0 {
				return apiError("InvalidPluginName", "The plugin name %q is not valid.", *in.PluginName)
			}
			p = inv.Plugins[j]
		case len(inv.Plugins) == 1:
			p = inv.Plugins[0]
		default:
			return apiError("InvalidPluginName", "The document has %d steps; specify PluginName.", len(inv.Plugins))
		}
		out = &ssm.GetCommandInvocationOutput{
			CommandId: aws.String(c.ID), InstanceId: aws.String(inv.InstanceID), DocumentName: aws.String(c.Document),
			DocumentVersion: aws.String(strconv.Itoa(c.Version)), PluginName: aws.String(p.Name), Status: inv.Status,
			StatusDetails: aws.String(inv.Details), ResponseCode: p.Code, StandardErrorContent: aws.String(""),
			StandardOutputContent: aws.String(p.Output[:min(len(p.Output), 24000)]),
		}
		if !inv.End.IsZero() {
			out.ExecutionStartDateTime = aws.String(inv.Start.Add(SSMDispatch).Format(time.RFC3339))
			out.ExecutionEndDateTime = aws.String(inv.End.Format(time.RFC3339))
		}
		return nil
	})
	return out, err
}

// SSMCommand is a sent command as tests inspect it.
type SSMCommand struct {
	ID              string
	Document        string
	DocumentVersion string
	Targets         map[string][]string // target key -> values
	InstanceIDs     []string
	Parameters      map[string][]string
	LogGroup        string
	CloudWatch      bool
	MaxConcurrency  string
	MaxErrors       string
	TimeoutSeconds  int32
	Comment         string
}

// Commands returns every command sent, oldest first.
func (f *SSM) Commands() []SSMCommand {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	var out []SSMCommand
	for _, c := range f.st().Commands {
		sc := SSMCommand{
			ID: c.ID, Document: c.Document, DocumentVersion: c.DocumentVersion, InstanceIDs: slices.Clone(c.InstanceIDs),
			Parameters: maps.Clone(c.Parameters), LogGroup: c.LogGroup, CloudWatch: c.CloudWatchEnabled,
			MaxConcurrency: c.MaxConcurrency, MaxErrors: c.MaxErrors, TimeoutSeconds: c.DeliveryTimeout, Comment: c.Comment,
			Targets: map[string][]string{},
		}
		for _, t := range c.Targets {
			sc.Targets[t.Key] = slices.Clone(t.Values)
		}
		out = append(out, sc)
	}
	return out
}

// CommandJSON renders a command's current status as JSON, for debugging
// test failures.
func (f *SSM) CommandJSON(id string) string {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	c, err := f.command(id)
	if err != nil {
		return fmt.Sprint(err)
	}
	b, _ := json.Marshal(f.commandStatus(c, f.c.now()))
	return string(b)
}
