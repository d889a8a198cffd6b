package tracking

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/cutoverkit/cutover/internal/awsx"
	"github.com/cutoverkit/cutover/migration"
)

// DashboardAPI is the part of the CloudWatch client EnsureDashboard and
// DeleteDashboard use.
type DashboardAPI interface {
	GetDashboard(context.Context, *cloudwatch.GetDashboardInput, ...func(*cloudwatch.Options)) (*cloudwatch.GetDashboardOutput, error)
	PutDashboard(context.Context, *cloudwatch.PutDashboardInput, ...func(*cloudwatch.Options)) (*cloudwatch.PutDashboardOutput, error)
	DeleteDashboards(context.Context, *cloudwatch.DeleteDashboardsInput, ...func(*cloudwatch.Options)) (*cloudwatch.DeleteDashboardsOutput, error)
	ListTagsForResource(context.Context, *cloudwatch.ListTagsForResourceInput, ...func(*cloudwatch.Options)) (*cloudwatch.ListTagsForResourceOutput, error)
	TagResource(context.Context, *cloudwatch.TagResourceInput, ...func(*cloudwatch.Options)) (*cloudwatch.TagResourceOutput, error)
}

// KindDashboard is the Change kind of the dashboard.
const KindDashboard = "cloudwatch-dashboard"

// DashboardName returns the env's dashboard name, "migration-<suffix>".
func DashboardName(env migration.Env) string { return env.Name("migration") }

// DMSTask is one DMS replication task on the dashboard.
type DMSTask struct {
	// Label names the task on the graphs ("forward", "reverse").
	Label string
	// ARN is the task's ARN. CloudWatch's ReplicationTaskIdentifier
	// dimension is its resource ID (the part after the last ":"), not
	// the task's name.
	ARN string
}

// ResourceID returns the task ARN's resource ID, the value of the
// ReplicationTaskIdentifier dimension.
func (t DMSTask) ResourceID() string {
	if i := strings.LastIndex(t.ARN, ":"); i >= 0 {
		return t.ARN[i+1:]
	}
	return t.ARN
}

// DashboardSpec names what the dashboard shows; every part is optional
// and its widgets appear only when given. IDs come from the packages
// that made the resources.
type DashboardSpec struct {
	// DMSInstanceID is the replication instance identifier (the
	// ReplicationInstanceIdentifier dimension), e.g. "dms-instance-dev".
	DMSInstanceID string
	// DMSTasks are the replication tasks; they need DMSInstanceID.
	DMSTasks []DMSTask
	// VPNConnectionID ("vpn-...") and the AWS-side outside IP of each of
	// its tunnels. CloudWatch publishes the AWS/VPN metrics twice, per
	// connection (dimension VpnId alone) and per tunnel (dimension
	// TunnelIpAddress alone), never with both dimensions together.
	VPNConnectionID string
	VPNTunnelIPs    []string
	// DXConnectionID is the Direct Connect connection ("dxcon-..." or
	// "dxlag-...").
	DXConnectionID string
	// AlarmARNs are the rollback alarms, shown in an alarm-status widget
	// (at most 100).
	AlarmARNs []string
	// RunbookSteps are the runbook's step names, in order, listed in the
	// text widget.
	RunbookSteps []string
	// PeriodSeconds is the graphs' period, a multiple of 60; 0 means 60.
	PeriodSeconds int
}

// Validate checks the spec.
func (s DashboardSpec) Validate() error {
	var errs []error
	if len(s.DMSTasks) > 0 && s.DMSInstanceID == "" {
		errs = append(errs, errors.New("dashboard.dmsInstanceId: required with dmsTasks"))
	}
	for i, t := range s.DMSTasks {
		if t.Label == "" {
			errs = append(errs, fmt.Errorf("dashboard.dmsTasks[%d].label: required", i))
		}
		if !migration.IsPending(t.ARN) && (!strings.HasPrefix(t.ARN, "arn:aws") || !strings.Contains(t.ARN, ":dms:") || !strings.Contains(t.ARN, ":task:")) {
			errs = append(errs, fmt.Errorf("dashboard.dmsTasks[%d].arn: %q is not a DMS task ARN", i, t.ARN))
		}
	}
	if len(s.VPNTunnelIPs) > 0 && s.VPNConnectionID == "" {
		errs = append(errs, errors.New("dashboard.vpnConnectionId: required with vpnTunnelIps"))
	}
	if id := s.VPNConnectionID; id != "" && !migration.IsPending(id) && !strings.HasPrefix(id, "vpn-") {
		errs = append(errs, fmt.Errorf("dashboard.vpnConnectionId: %q is not a VPN connection ID (vpn-...)", id))
	}
	for i, ip := range s.VPNTunnelIPs {
		if a, err := netip.ParseAddr(ip); err != nil || !a.Is4() {
			errs = append(errs, fmt.Errorf("dashboard.vpnTunnelIps[%d]: %q is not an IPv4 address", i, ip))
		}
	}
	if id := s.DXConnectionID; id != "" && !migration.IsPending(id) && !strings.HasPrefix(id, "dxcon-") && !strings.HasPrefix(id, "dxlag-") {
		errs = append(errs, fmt.Errorf("dashboard.dxConnectionId: %q is not a Direct Connect connection ID (dxcon-... or dxlag-...)", id))
	}
	if len(s.AlarmARNs) > 100 {
		errs = append(errs, fmt.Errorf("dashboard.alarmArns: %d alarms; an alarm widget shows at most 100", len(s.AlarmARNs)))
	}
	for i, a := range s.AlarmARNs {
		if !migration.IsPending(a) && (!strings.HasPrefix(a, "arn:aws") || !strings.Contains(a, ":cloudwatch:") || !strings.Contains(a, ":alarm:")) {
			errs = append(errs, fmt.Errorf("dashboard.alarmArns[%d]: %q is not a CloudWatch alarm ARN", i, a))
		}
	}
	if s.PeriodSeconds < 0 || s.PeriodSeconds%60 != 0 {
		errs = append(errs, fmt.Errorf("dashboard.periodSeconds: %d is not a positive multiple of 60", s.PeriodSeconds))
	}
	return errors.Join(errs...)
}

func (s DashboardSpec) period() int {
	if s.PeriodSeconds == 0 {
		return 60
	}
	return s.PeriodSeconds
}

// The body of a CloudWatch dashboard, as Go types
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html).

// DashboardBody is a dashboard's body.
type DashboardBody struct {
	Widgets []Widget `json:"widgets"`
}

// Widget is one widget on the 24-column grid. Properties is a
// *MetricProperties, *TextProperties or *AlarmProperties.
type Widget struct {
	Type       string `json:"type"`
	X          int    `json:"x"`
	Y          int    `json:"y"`
	Width      int    `json:"width"`
	Height     int    `json:"height"`
	Properties any    `json:"properties"`
}

// MetricProperties are the properties of a metric widget.
type MetricProperties struct {
	Title   string       `json:"title"`
	Region  string       `json:"region"`
	View    string       `json:"view"`
	Stacked bool         `json:"stacked"`
	Stat    string       `json:"stat"`
	Period  int          `json:"period"`
	Metrics []MetricLine `json:"metrics"`
}

// MetricLine is one metric of a metric widget; it renders as CloudWatch's
// array form [Namespace, MetricName, dimName, dimValue, ..., {options}].
type MetricLine struct {
	Namespace  string
	Name       string
	Dimensions []Dimension
	Label      string
	Stat       string
	YAxis      string // "left" (default) or "right"
}

// Dimension is one metric dimension.
type Dimension struct{ Name, Value string }

// MarshalJSON renders the line in CloudWatch's array form.
func (m MetricLine) MarshalJSON() ([]byte, error) {
	arr := []any{m.Namespace, m.Name}
	for _, d := range m.Dimensions {
		arr = append(arr, d.Name, d.Value)
	}
	opts := map[string]string{}
	if m.Label != "" {
		opts["label"] = m.Label
	}
	if m.Stat != "" {
		opts["stat"] = m.Stat
	}
	if m.YAxis != "" {
		opts["yAxis"] = m.YAxis
	}
	if len(opts) > 0 {
		arr = append(arr, opts)
	}
	return json.Marshal(arr)
}

// TextProperties are the properties of a text widget.
type TextProperties struct {
	Markdown string `json:"markdown"`
}

// AlarmProperties are the properties of an alarm-status widget.
type AlarmProperties struct {
	Title  string   `json:"title"`
	Alarms []string `json:"alarms"`
	SortBy string   `json:"sortBy,omitempty"`
}

// Validate checks the body against CloudWatch's rules: at most 500
// widgets; x 0..23, width 1..24 and x+width within the grid; height
// 1..1000; metric widgets with a region, 1..500 metrics each with a
// namespace, a name and complete dimension pairs (at most 30), a period
// that is a multiple of 60; text widgets with markdown; alarm widgets
// with 1..100 alarm ARNs.
func (b DashboardBody) Validate() error {
	if len(b.Widgets) > 500 {
		return fmt.Errorf("dashboard: %d widgets, at most 500", len(b.Widgets))
	}
	var errs []error
	for i, w := range b.Widgets {
		at := fmt.Sprintf("widgets[%d] (%s)", i, w.Type)
		if w.X < 0 || w.X > 23 || w.Y < 0 {
			errs = append(errs, fmt.Errorf("%s: x must be 0..23 and y >= 0, got %d,%d", at, w.X, w.Y))
		}
		if w.Width < 1 || w.Width > 24 || w.X+w.Width > 24 {
			errs = append(errs, fmt.Errorf("%s: width %d at x %d leaves the 24-column grid", at, w.Width, w.X))
		}
		if w.Height < 1 || w.Height > 1000 {
			errs = append(errs, fmt.Errorf("%s: height %d outside 1..1000", at, w.Height))
		}
		switch p := w.Properties.(type) {
		case *MetricProperties:
			if w.Type != "metric" {
				errs = append(errs, fmt.Errorf("%s: metric properties on a %s widget", at, w.Type))
			}
			if p.Region == "" {
				errs = append(errs, fmt.Errorf("%s: region required", at))
			}
			if p.Period <= 0 || p.Period%60 != 0 {
				errs = append(errs, fmt.Errorf("%s: period %d is not a positive multiple of 60", at, p.Period))
			}
			if len(p.Metrics) == 0 || len(p.Metrics) > 500 {
				errs = append(errs, fmt.Errorf("%s: %d metrics, want 1..500", at, len(p.Metrics)))
			}
			for j, m := range p.Metrics {
				if m.Namespace == "" || m.Name == "" || len(m.Dimensions) > 30 {
					errs = append(errs, fmt.Errorf("%s: metrics[%d]: namespace and name required, at most 30 dimensions", at, j))
				}
				for _, d := range m.Dimensions {
					if d.Name == "" || d.Value == "" {
						errs = append(errs, fmt.Errorf("%s: metrics[%d]: dimension %q has an empty name or value", at, j, d.Name))
					}
				}
			}
		case *TextProperties:
			if w.Type != "text" || p.Markdown == "" {
				errs = append(errs, fmt.Errorf("%s: a text widget needs markdown", at))
			}
		case *AlarmProperties:
			if w.Type != "alarm" || len(p.Alarms) < 1 || len(p.Alarms) > 100 {
				errs = append(errs, fmt.Errorf("%s: an alarm widget needs 1..100 alarms", at))
			}
		default:
			errs = append(errs, fmt.Errorf("%s: unknown properties %T", at, w.Properties))
		}
	}
	return errors.Join(errs...)
}

// Metrics returns every metric line of the body's metric widgets.
func (b DashboardBody) Metrics() []MetricLine {
	var out []MetricLine
	for _, w := range b.Widgets {
		if p, ok := w.Properties.(*MetricProperties); ok {
			out = append(out, p.Metrics...)
		}
	}
	return out
}

// JSON renders the body.
func (b DashboardBody) JSON() (string, error) {
	out, err := json.Marshal(b)
	if err != nil {
		return "", fmt.Errorf("render dashboard: %w", err)
	}
	return string(out), nil
}

// ownerMarker is the line of the text widget that marks the dashboard as
// this env's. Delete removes only a dashboard carrying it, Ensure refuses
// to overwrite one without it: dashboard tags are not readable through
// GetDashboard, the body is.
func ownerMarker(env migration.Env) string { return "`" + migration.OwnerTag + "=" + env.Suffix + "`" }

// BuildDashboard returns the dashboard body for the spec: the runbook's
// steps, the migration's progress metrics (namespace Cutover), DMS CDC
// latency and throughput per task, the replication instance's CPU and
// memory, VPN tunnel state and traffic per tunnel, the Direct Connect
// connection state and the rollback alarms. Widgets flow on the
// 24-column grid, two graphs per row.
func BuildDashboard(env migration.Env, spec DashboardSpec) DashboardBody {
	var ws []Widget
	graph := func(title, stat string, view string, lines ...MetricLine) {
		ws = append(ws, Widget{Type: "metric", Width: 12, Height: 6, Properties: &MetricProperties{
			Title: title, Region: env.Region, View: view, Stat: stat, Period: spec.period(), Metrics: lines,
		}})
	}
	envDim := []Dimension{{DimensionEnv, env.Suffix}}
	custom := func(name, label string) MetricLine {
		return MetricLine{Namespace: MetricsNamespace, Name: name, Dimensions: envDim, Label: label}
	}

	var md strings.Builder
	fmt.Fprintf(&md, "# Migration %s\n\n", env.Suffix)
	if len(spec.RunbookSteps) > 0 {
		md.WriteString("## Runbook\n\n")
		for i, s := range spec.RunbookSteps {
			fmt.Fprintf(&md, "%d. %s\n", i+1, strings.ReplaceAll(s, "\n", " "))
		}
		md.WriteString("\n")
	}
	fmt.Fprintf(&md, "Phases: %s.\n\n", phaseLegend())
	fmt.Fprintf(&md, "Managed by cutover (%s): changes made here are overwritten by the next apply.", ownerMarker(env))
	ws = append(ws, Widget{Type: "text", Width: 24, Height: min(1000, 4+(len(spec.RunbookSteps)+1)/2), Properties: &TextProperties{Markdown: md.String()}})

	graph("Migration progress (%)", "Maximum", "timeSeries",
		custom(MetricProgress, "progress %"), custom(MetricTrafficWeightGreen, "traffic on green %"))
	graph("Servers", "Maximum", "timeSeries",
		custom(MetricServersReplicated, "replicated"), custom(MetricServersReady, "ready for cutover"), custom(MetricServersCutOver, "cut over"))
	graph("Phase (index in the lifecycle)", "Maximum", "singleValue", custom(MetricPhase, "phase"))

	if spec.DMSInstanceID != "" {
		inst := Dimension{"ReplicationInstanceIdentifier", spec.DMSInstanceID}
		if len(spec.DMSTasks) > 0 {
			var lat, thr []MetricLine
			for _, t := range spec.DMSTasks {
				dims := []Dimension{inst, {"ReplicationTaskIdentifier", t.ResourceID()}}
				lat = append(lat,
					MetricLine{Namespace: "AWS/DMS", Name: "CDCLatencySource", Dimensions: dims, Label: t.Label + " source"},
					MetricLine{Namespace: "AWS/DMS", Name: "CDCLatencyTarget", Dimensions: dims, Label: t.Label + " target"})
				thr = append(thr,
					MetricLine{Namespace: "AWS/DMS", Name: "CDCThroughputRowsSource", Dimensions: dims, Label: t.Label + " source rows/s"},
					MetricLine{Namespace: "AWS/DMS", Name: "CDCThroughputRowsTarget", Dimensions: dims, Label: t.Label + " target rows/s"})
			}
			graph("DMS CDC latency (seconds)", "Maximum", "timeSeries", lat...)
			graph("DMS CDC throughput (rows/second)", "Average", "timeSeries", thr...)
		}
		graph("DMS replication instance", "Average", "timeSeries",
			MetricLine{Namespace: "AWS/DMS", Name: "CPUUtilization", Dimensions: []Dimension{inst}, Label: "CPU %"},
			MetricLine{Namespace: "AWS/DMS", Name: "FreeableMemory", Dimensions: []Dimension{inst}, Label: "freeable memory (bytes)", YAxis: "right"})
	}
	if spec.VPNConnectionID != "" {
		vpn := Dimension{"VpnId", spec.VPNConnectionID}
		state := []MetricLine{{Namespace: "AWS/VPN", Name: "TunnelState", Dimensions: []Dimension{vpn}, Label: "connection (share of tunnels up)"}}
		var data []MetricLine
		for _, ip := range spec.VPNTunnelIPs {
			// Per tunnel the only dimension is TunnelIpAddress: a line
			// that adds VpnId matches no published series.
			dims := []Dimension{{"TunnelIpAddress", ip}}
			state = append(state, MetricLine{Namespace: "AWS/VPN", Name: "TunnelState", Dimensions: dims, Label: "tunnel " + ip})
			data = append(data,
				MetricLine{Namespace: "AWS/VPN", Name: "TunnelDataIn", Dimensions: dims, Label: ip + " in"},
				MetricLine{Namespace: "AWS/VPN", Name: "TunnelDataOut", Dimensions: dims, Label: ip + " out"})
		}
		if len(data) == 0 {
			data = []MetricLine{
				{Namespace: "AWS/VPN", Name: "TunnelDataIn", Dimensions: []Dimension{vpn}, Label: "in"},
				{Namespace: "AWS/VPN", Name: "TunnelDataOut", Dimensions: []Dimension{vpn}, Label: "out"},
			}
		}
		graph("VPN tunnel state (1 = up)", "Minimum", "timeSeries", state...)
		graph("VPN data (bytes)", "Sum", "timeSeries", data...)
	}
	if spec.DXConnectionID != "" {
		graph("Direct Connect connection state (1 = up)", "Minimum", "timeSeries",
			MetricLine{Namespace: "AWS/DX", Name: "ConnectionState", Dimensions: []Dimension{{"ConnectionId", spec.DXConnectionID}}, Label: spec.DXConnectionID})
	}
	if len(spec.AlarmARNs) > 0 {
		ws = append(ws, Widget{Type: "alarm", Width: 24, Height: 4, Properties: &AlarmProperties{Title: "Rollback alarms", Alarms: spec.AlarmARNs, SortBy: "stateUpdatedTimestamp"}})
	}
	layout(ws)
	return DashboardBody{Widgets: ws}
}

// layout places widgets left to right, wrapping at 24 columns.
func layout(ws []Widget) {
	x, y, rowHeight := 0, 0, 0
	for i := range ws {
		if x+ws[i].Width > 24 {
			x, y, rowHeight = 0, y+rowHeight, 0
		}
		ws[i].X, ws[i].Y = x, y
		x += ws[i].Width
		rowHeight = max(rowHeight, ws[i].Height)
	}
}

func phaseLegend() string {
	var parts []string
	for i, p := range migration.Phases {
		parts = append(parts, fmt.Sprintf("%d %s", i, p))
	}
	return strings.Join(parts, ", ")
}

// Dashboard is an ensured dashboard.
type Dashboard struct {
	Name string
	ARN  string
}

func dashboardARN(env migration.Env, name string) string {
	return "arn:aws:cloudwatch::" + env.Account + ":dashboard/" + name
}

// EnsureDashboard makes the env's dashboard "migration-<suffix>" exist
// with the body BuildDashboard(env, spec) and the env's tags. A missing
// dashboard is created with them; on an existing one the body is
// rewritten only when it differs (compared as JSON, not as text) and
// missing tags are added with TagResource (PutDashboard ignores tags on
// an update). A dashboard of that name that lacks the env's ownership
// marker in its body is refused, never overwritten: the marker, not a
// tag, is the ownership proof, as it is part of what the env writes.
// Dry run: reads only.
func EnsureDashboard(ctx context.Context, env migration.Env, api DashboardAPI, spec DashboardSpec) (Dashboard, error) {
	name := DashboardName(env)
	if err := migration.Validate(env, spec); err != nil {
		return Dashboard{}, fmt.Errorf("ensure dashboard %q: %w", name, err)
	}
	d, err := ensureDashboard(ctx, env, api, spec, name)
	if err != nil {
		return Dashboard{}, fmt.Errorf("ensure dashboard %q: %w", name, err)
	}
	return d, nil
}

func ensureDashboard(ctx context.Context, env migration.Env, api DashboardAPI, spec DashboardSpec, name string) (Dashboard, error) {
	body := BuildDashboard(env, spec)
	if err := body.Validate(); err != nil {
		return Dashboard{}, err
	}
	text, err := body.JSON()
	if err != nil {
		return Dashboard{}, err
	}
	arn := dashboardARN(env, name)
	out, err := api.GetDashboard(ctx, &cloudwatch.GetDashboardInput{DashboardName: aws.String(name)})
	if err != nil && !awsx.IsNotFound(err) {
		return Dashboard{}, fmt.Errorf("get: %w", err)
	}
	put := func() error {
		_, err := api.PutDashboard(ctx, &cloudwatch.PutDashboardInput{DashboardName: aws.String(name), DashboardBody: aws.String(text), Tags: cwTags(env.NameTags(name))})
		return err
	}
	if err != nil { // not found
		c := migration.Change{Kind: KindDashboard, Name: name, ID: arn, Action: migration.ActionCreate, Diff: []migration.FieldDiff{{Field: "widgets", To: fmt.Sprint(len(body.Widgets))}}}
		if env.DryRun {
			c.ID = migration.Pending(name)
		} else if err := put(); err != nil {
			return Dashboard{}, fmt.Errorf("put: %w", err)
		}
		env.Report(c)
		return Dashboard{Name: name, ARN: c.ID}, nil
	}
	have := aws.ToString(out.DashboardBody)
	if !strings.Contains(have, ownerMarker(env)) {
		return Dashboard{}, fmt.Errorf("dashboard exists without this env's marker %s; refusing to overwrite it", ownerMarker(env))
	}
	if a := aws.ToString(out.DashboardArn); a != "" {
		arn = a
	}
	tags, err := api.ListTagsForResource(ctx, &cloudwatch.ListTagsForResourceInput{ResourceARN: aws.String(arn)})
	if err != nil {
		return Dashboard{}, fmt.Errorf("list tags: %w", err)
	}
	var c migration.Converge
	c.Tags(awsx.TagMap(tags.Tags, func(t cwtypes.Tag) (*string, *string) { return t.Key, t.Value }), env.NameTags(name), func(missing map[string]string) error {
		if _, err := api.TagResource(ctx, &cloudwatch.TagResourceInput{ResourceARN: aws.String(arn), Tags: cwTags(missing)}); err != nil {
			return fmt.Errorf("tag: %w", err)
		}
		return nil
	})
	if !sameJSON(have, text) {
		var old struct {
			Widgets []json.RawMessage `json:"widgets"`
		}
		_ = json.Unmarshal([]byte(have), &old)
		c.Fix("body", fmt.Sprintf("%d widgets (differs)", len(old.Widgets)), fmt.Sprintf("%d widgets", len(body.Widgets)), func() error {
			if err := put(); err != nil {
				return fmt.Errorf("put: %w", err)
			}
			return nil
		})
	}
	if err := c.Apply(env, migration.Change{Kind: KindDashboard, Name: name, ID: arn}); err != nil {
		return Dashboard{}, err
	}
	return Dashboard{Name: name, ARN: arn}, nil
}

// sameJSON reports whether two JSON texts hold the same value.
func sameJSON(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// DeleteDashboard deletes the env's dashboard. A dashboard of that name
// without the env's marker is left in place; a missing one is a no-op.
func DeleteDashboard(ctx context.Context, env migration.Env, api DashboardAPI, spec DashboardSpec) error {
	name := DashboardName(env)
	if err := migration.Validate(env, spec); err != nil {
		return fmt.Errorf("delete dashboard %q: %w", name, err)
	}
	out, err := api.GetDashboard(ctx, &cloudwatch.GetDashboardInput{DashboardName: aws.String(name)})
	if awsx.IsNotFound(err) {
		env.ReportGone(KindDashboard, name)
		return nil
	}
	if err != nil {
		return fmt.Errorf("delete dashboard %q: get: %w", name, err)
	}
	arn := aws.ToString(out.DashboardArn)
	if !strings.Contains(aws.ToString(out.DashboardBody), ownerMarker(env)) {
		env.ReportNotOwned(KindDashboard, name, arn)
		return nil
	}
	if !env.DryRun {
		if _, err := api.DeleteDashboards(ctx, &cloudwatch.DeleteDashboardsInput{DashboardNames: []string{name}}); err != nil && !awsx.IsNotFound(err) {
			return fmt.Errorf("delete dashboard %q: %w", name, err)
		}
	}
	env.Report(migration.Change{Kind: KindDashboard, Name: name, ID: arn, Action: migration.ActionDelete})
	return nil
}

func cwTags(m map[string]string) []cwtypes.Tag {
	return awsx.Tags(m, func(k, v *string) cwtypes.Tag { return cwtypes.Tag{Key: k, Value: v} })
}
