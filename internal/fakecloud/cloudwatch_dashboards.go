package fakecloud

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// Dashboards: PutDashboard validates the body the way CloudWatch does
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html):
// a JSON object with widgets (0..500), each of type metric, text, log,
// alarm or explorer, x 0..23 and y >= 0 (both or neither), width 1..24,
// height 1..1000; a metric widget needs a region, metrics of at most 500
// entries, each [Namespace, MetricName, dimName, dimValue, ..., {opts}] or
// {"expression": ...}, and a period that is a multiple of 60; a text
// widget needs markdown; an alarm widget 1..100 alarm ARNs. Errors come
// back as InvalidParameterInput with the failing path, as CloudWatch's
// DashboardValidationMessages say. Tags are kept from the create call
// (CloudWatch ignores Tags when PutDashboard updates a dashboard).

func init() { register("cloudwatch-dashboards", func() any { return &dashboardsState{} }) }

type dashboardsState struct {
	Dashboards map[string]*fakeDashboard `json:"dashboards"`
}

type fakeDashboard struct {
	Name     string            `json:"name"`
	ARN      string            `json:"arn"`
	Body     string            `json:"body"`
	Modified time.Time         `json:"modified"`
	Tags     map[string]string `json:"tags,omitempty"`
}

func (f *CloudWatch) dashboards() *dashboardsState {
	s := state[dashboardsState](f.c, "cloudwatch-dashboards")
	if s.Dashboards == nil {
		s.Dashboards = map[string]*fakeDashboard{}
	}
	return s
}

var dashboardNameRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,255}$`)

// dashboardARN is a dashboard's ARN: global, no Region.
func (f *CloudWatch) dashboardARN(name string) string {
	return f.c.globalARN("cloudwatch", f.c.account, "dashboard/"+name)
}

// checkDashboardBody validates a body; the error names the JSON path.
func checkDashboardBody(body string) error {
	bad := func(path, msg string, args ...any) error {
		return apiError("InvalidParameterInput", "The field DashboardBody must be a valid JSON object [%s] %s", path, fmt.Sprintf(msg, args...))
	}
	var root map[string]json.RawMessage
	if err := json.Unmarshal([]byte(body), &root); err != nil {
		return bad("", "should be an object: %v", err)
	}
	rawWidgets, ok := root["widgets"]
	if !ok {
		return bad("", "should have required property 'widgets'")
	}
	var widgets []map[string]json.RawMessage
	if err := json.Unmarshal(rawWidgets, &widgets); err != nil {
		return bad("/widgets", "should be array")
	}
	if len(widgets) > 500 {
		return bad("/widgets", "should NOT have more than 500 items")
	}
	for i, w := range widgets {
		path := fmt.Sprintf("/widgets/%d", i)
		var typ string
		if json.Unmarshal(w["type"], &typ) != nil {
			return bad(path, "should have required property 'type'")
		}
		num := func(field string, min, max int) (int, bool, error) {
			raw, ok := w[field]
			if !ok {
				return 0, false, nil
			}
			var v float64
			if json.Unmarshal(raw, &v) != nil || v != float64(int(v)) {
				return 0, true, bad(path+"/"+field, "should be integer")
			}
			if int(v) < min || int(v) > max {
				return 0, true, bad(path+"/"+field, "should be between %d and %d", min, max)
			}
			return int(v), true, nil
		}
		_, hasX, err := num("x", 0, 23)
		if err != nil {
			return err
		}
		_, hasY, err := num("y", 0, 1<<30)
		if err != nil {
			return err
		}
		if hasX != hasY {
			return bad(path, "should have both x and y, or neither")
		}
		if _, _, err := num("width", 1, 24); err != nil {
			return err
		}
		if _, _, err := num("height", 1, 1000); err != nil {
			return err
		}
		var props map[string]json.RawMessage
		if typ != "explorer" {
			if json.Unmarshal(w["properties"], &props) != nil {
				return bad(path, "should have required property 'properties'")
			}
		}
		ppath := path + "/properties"
		switch typ {
		case "metric":
			if err := checkMetricWidget(ppath, props, bad); err != nil {
				return err
			}
		case "text":
			var md string
			if json.Unmarshal(props["markdown"], &md) != nil {
				return bad(ppath, "should have required property 'markdown'")
			}
		case "alarm":
			var alarms []string
			if json.Unmarshal(props["alarms"], &alarms) != nil {
				return bad(ppath, "should have required property 'alarms'")
			}
			if len(alarms) < 1 || len(alarms) > 100 {
				return bad(ppath+"/alarms", "should have 1 to 100 items")
			}
			for j, a := range alarms {
				if !strings.HasPrefix(a, "arn:aws:cloudwatch:") || !strings.Contains(a, ":alarm:") {
					return bad(fmt.Sprintf("%s/alarms/%d", ppath, j), "should be an alarm ARN")
				}
			}
		case "log":
			var region, query string
			if json.Unmarshal(props["region"], &region) != nil || region == "" {
				return bad(ppath, "should have required property 'region'")
			}
			if json.Unmarshal(props["query"], &query) != nil || !strings.HasPrefix(strings.TrimSpace(query), "SOURCE ") {
				return bad(ppath+"/query", "should start with SOURCE '<log group>'")
			}
		case "explorer":
		default:
			return bad(path+"/type", "should be equal to one of the allowed values [metric, text, log, alarm, explorer]")
		}
	}
	return nil
}

func checkMetricWidget(ppath string, props map[string]json.RawMessage, bad func(string, string, ...any) error) error {
	var region string
	if json.Unmarshal(props["region"], &region) != nil || region == "" {
		return bad(ppath, "should have required property 'region'")
	}
	if raw, ok := props["period"]; ok {
		var p float64
		if json.Unmarshal(raw, &p) != nil || p <= 0 || int(p)%60 != 0 || p != float64(int(p)) {
			return bad(ppath+"/period", "should be a multiple of 60")
		}
	}
	raw, ok := props["metrics"]
	if !ok {
		if _, ok := props["annotations"]; ok {
			return nil // an annotation-only graph
		}
		return bad(ppath, "should have required property 'metrics'")
	}
	var metrics []json.RawMessage
	if json.Unmarshal(raw, &metrics) != nil {
		return bad(ppath+"/metrics", "should be array")
	}
	if len(metrics) > 500 {
		return bad(ppath+"/metrics", "should NOT have more than 500 items")
	}
	for j, m := range metrics {
		mpath := fmt.Sprintf("%s/metrics/%d", ppath, j)
		var entry []json.RawMessage
		if json.Unmarshal(m, &entry) != nil || len(entry) == 0 {
			return bad(mpath, "should be array")
		}
		var strs []string
		expr := false
		for k, e := range entry {
			var s string
			if json.Unmarshal(e, &s) == nil {
				strs = append(strs, s)
				continue
			}
			var opts map[string]json.RawMessage
			if k != len(entry)-1 || json.Unmarshal(e, &opts) != nil {
				return bad(fmt.Sprintf("%s/%d", mpath, k), "should be string, or a rendering-properties object last")
			}
			if _, ok := opts["expression"]; ok && len(strs) == 0 {
				expr = true
			}
		}
		if expr {
			continue
		}
		if len(strs) == 0 {
			return bad(mpath, "should hold a namespace and a metric name, or an expression")
		}
		if len(strs) < 2 || len(strs)%2 != 0 {
			return bad(mpath, "should be [Namespace, MetricName, DimensionName, DimensionValue, ...]")
		}
		if len(strs) > 2+2*30 {
			return bad(mpath, "should have at most 30 dimensions")
		}
	}
	return nil
}

// PutDashboard creates or replaces a dashboard; tags apply on create only.
func (f *CloudWatch) PutDashboard(ctx context.Context, in *cloudwatch.PutDashboardInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.PutDashboardOutput, error) {
	err := f.c.call(ctx, cloudwatch.ServiceID, "PutDashboard", true, func() error {
		name := aws.ToString(in.DashboardName)
		if !dashboardNameRe.MatchString(name) {
			return apiError("InvalidParameterInput", "The value %s for parameter DashboardName is invalid: only A-Z, a-z, 0-9, - and _, at most 255 characters", name)
		}
		body := aws.ToString(in.DashboardBody)
		if err := checkDashboardBody(body); err != nil {
			return err
		}
		if len(in.Tags) > 50 {
			return apiError("LimitExceededException", "a dashboard can have at most 50 tags")
		}
		s := f.dashboards()
		d, ok := s.Dashboards[name]
		if !ok {
			d = &fakeDashboard{Name: name, ARN: f.dashboardARN(name), Tags: map[string]string{}}
			for _, t := range in.Tags {
				d.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
			}
			s.Dashboards[name] = d
			f.c.created("dashboard/" + name)
		}
		d.Body, d.Modified = body, f.c.now()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &cloudwatch.PutDashboardOutput{DashboardValidationMessages: []types.DashboardValidationMessage{}}, nil
}

// GetDashboard returns a dashboard's body and ARN.
func (f *CloudWatch) GetDashboard(ctx context.Context, in *cloudwatch.GetDashboardInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.GetDashboardOutput, error) {
	var out *cloudwatch.GetDashboardOutput
	err := f.c.call(ctx, cloudwatch.ServiceID, "GetDashboard", false, func() error {
		name := aws.ToString(in.DashboardName)
		d, ok := f.dashboards().Dashboards[name]
		if !ok || f.c.hidden("dashboard/"+name) {
			return notFound("ResourceNotFound", "Dashboard %s does not exist", name)
		}
		out = &cloudwatch.GetDashboardOutput{DashboardName: aws.String(d.Name), DashboardArn: aws.String(d.ARN), DashboardBody: aws.String(d.Body)}
		return nil
	})
	return out, err
}

// ListDashboards lists dashboards by name prefix, 1000 per page.
func (f *CloudWatch) ListDashboards(ctx context.Context, in *cloudwatch.ListDashboardsInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.ListDashboardsOutput, error) {
	var out *cloudwatch.ListDashboardsOutput
	err := f.c.call(ctx, cloudwatch.ServiceID, "ListDashboards", false, func() error {
		s := f.dashboards()
		var all []types.DashboardEntry
		for _, name := range sortedKeys(s.Dashboards) {
			if p := aws.ToString(in.DashboardNamePrefix); p != "" && !strings.HasPrefix(name, p) {
				continue
			}
			d := s.Dashboards[name]
			all = append(all, types.DashboardEntry{DashboardName: aws.String(name), DashboardArn: aws.String(d.ARN), LastModified: aws.Time(d.Modified), Size: aws.Int64(int64(len(d.Body)))})
		}
		items, next, err := page(all, in.NextToken, 1000)
		if err != nil {
			return err
		}
		out = &cloudwatch.ListDashboardsOutput{DashboardEntries: items, NextToken: next}
		return nil
	})
	return out, err
}

// DeleteDashboards deletes dashboards; if any of them does not exist
// nothing is deleted and the call fails with ResourceNotFound, as in
// CloudWatch.
func (f *CloudWatch) DeleteDashboards(ctx context.Context, in *cloudwatch.DeleteDashboardsInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.DeleteDashboardsOutput, error) {
	err := f.c.call(ctx, cloudwatch.ServiceID, "DeleteDashboards", true, func() error {
		if len(in.DashboardNames) == 0 {
			return apiError("InvalidParameterValue", "DashboardNames must not be empty")
		}
		s := f.dashboards()
		for _, name := range in.DashboardNames {
			if _, ok := s.Dashboards[name]; !ok {
				return notFound("ResourceNotFound", "Dashboard %s does not exist", name)
			}
		}
		for _, name := range in.DashboardNames {
			delete(s.Dashboards, name)
		}
		return nil
	})
	return &cloudwatch.DeleteDashboardsOutput{}, err
}

// DashboardTags returns the tags a dashboard was created with, for
// assertions; ok is false when it does not exist.
func (f *CloudWatch) DashboardTags(name string) (map[string]string, bool) {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	d, ok := f.dashboards().Dashboards[name]
	if !ok {
		return nil, false
	}
	out := make(map[string]string, len(d.Tags))
	for k, v := range d.Tags {
		out[k] = v
	}
	return out, true
}

// DashboardNames returns the names of every dashboard, in order.
func (f *CloudWatch) DashboardNames() []string {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	return sortedKeys(f.dashboards().Dashboards)
}
