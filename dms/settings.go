package dms

import (
	"cmp"
	"encoding/json"
	"reflect"
	"slices"
	"strings"

	"github.com/cutoverkit/cutover/migration"
)

// The task settings document, built from Go types. Only the sections and
// fields the library decides are here; DMS fills in its defaults for the
// rest and returns the whole document, which is read back into these
// types to compare, so fields the library does not manage never cause a
// diff. CloudWatchLogGroup and CloudWatchLogStream are deliberately
// absent: DMS assigns them and refuses them on create (AWS-FACTS §1).

type taskSettings struct {
	TargetMetadata     targetMetadata     `json:"TargetMetadata"`
	FullLoadSettings   fullLoadSettings   `json:"FullLoadSettings"`
	Logging            logging            `json:"Logging"`
	ValidationSettings validationSettings `json:"ValidationSettings"`
	ErrorBehavior      errorBehavior      `json:"ErrorBehavior"`
}

type targetMetadata struct {
	SupportLobs        bool `json:"SupportLobs"`
	FullLobMode        bool `json:"FullLobMode"`
	LobChunkSize       int  `json:"LobChunkSize"`
	LimitedSizeLobMode bool `json:"LimitedSizeLobMode"`
	LobMaxSize         int  `json:"LobMaxSize"`
	BatchApplyEnabled  bool `json:"BatchApplyEnabled"`
}

type fullLoadSettings struct {
	TargetTablePrepMode string `json:"TargetTablePrepMode"`
	MaxFullLoadSubTasks int    `json:"MaxFullLoadSubTasks"`
	CommitRate          int    `json:"CommitRate"`
}

type logging struct {
	EnableLogging bool           `json:"EnableLogging"`
	LogComponents []logComponent `json:"LogComponents"`
}

type logComponent struct {
	ID       string `json:"Id"`
	Severity string `json:"Severity"`
}

type validationSettings struct {
	EnableValidation         bool   `json:"EnableValidation"`
	ValidationMode           string `json:"ValidationMode"`
	ThreadCount              int    `json:"ThreadCount"`
	FailureMaxCount          int    `json:"FailureMaxCount"`
	ValidationPartialLobSize int    `json:"ValidationPartialLobSize"`
}

type errorBehavior struct {
	DataErrorPolicy           string `json:"DataErrorPolicy"`
	DataTruncationErrorPolicy string `json:"DataTruncationErrorPolicy"`
}

// logComponents are the components logged, at the default severity.
var logComponents = []string{"SOURCE_UNLOAD", "SOURCE_CAPTURE", "TARGET_LOAD", "TARGET_APPLY", "TASK_MANAGER"}

// settings builds the task settings of a spec:
//
//   - LOBs per LOB.Mode (limited by default; validation then covers the
//     LOB prefix it keeps);
//   - batch apply on for the forward task (it needs primary keys, which
//     CDC needs anyway); off for the reverse task, which applies the
//     post-cutover trickle and must keep transaction order;
//   - the full-load table preparation of the spec (reverse tasks are
//     CDC-only and DO_NOTHING: they never touch on-premises tables'
//     definitions or data beyond replaying changes);
//   - CloudWatch logging of the five task components;
//   - row-level validation (forward by default), up to 10,000 failures
//     recorded per task, 5 threads;
//   - data errors and LOB truncation stop the task instead of being
//     logged and skipped: a migration must fail loudly, not drop rows.
func (s TaskSpec) settings() taskSettings {
	ts := taskSettings{
		FullLoadSettings: fullLoadSettings{TargetTablePrepMode: s.prepMode(), MaxFullLoadSubTasks: cmp.Or(s.MaxFullLoadSubTasks, 8), CommitRate: 10000},
		Logging:          logging{EnableLogging: true},
		ValidationSettings: validationSettings{
			EnableValidation: s.validation(), ValidationMode: "ROW_LEVEL", ThreadCount: 5, FailureMaxCount: 10000,
		},
		ErrorBehavior: errorBehavior{DataErrorPolicy: "STOP_TASK", DataTruncationErrorPolicy: "STOP_TASK"},
	}
	for _, c := range logComponents {
		ts.Logging.LogComponents = append(ts.Logging.LogComponents, logComponent{ID: c, Severity: "LOGGER_SEVERITY_DEFAULT"})
	}
	ts.TargetMetadata.BatchApplyEnabled = s.Direction == Forward
	switch s.LOB.mode() {
	case LOBFull:
		ts.TargetMetadata.SupportLobs, ts.TargetMetadata.FullLobMode = true, true
		ts.TargetMetadata.LobChunkSize = cmp.Or(s.LOB.ChunkSizeKB, 64)
	case LOBLimited:
		ts.TargetMetadata.SupportLobs, ts.TargetMetadata.LimitedSizeLobMode = true, true
		ts.TargetMetadata.LobMaxSize = s.LOB.maxSize()
		if ts.ValidationSettings.EnableValidation {
			ts.ValidationSettings.ValidationPartialLobSize = s.LOB.maxSize()
		}
	case LOBNone:
	}
	return ts
}

// JSON renders the settings document.
func (ts taskSettings) JSON() string {
	b, _ := json.Marshal(ts) // plain values: cannot fail
	return string(b)
}

// settingsDiff reads DMS's settings document into the managed types and
// names the sections that differ from want.
func taskSettingsDiff(have string, want taskSettings) []migration.FieldDiff {
	var h taskSettings
	if err := json.Unmarshal([]byte(have), &h); err != nil {
		return []migration.FieldDiff{{Field: "settings", From: "(unreadable)", To: "spec"}}
	}
	// DMS lists every component it knows; compare only the managed ones.
	var comps []logComponent
	for _, c := range h.Logging.LogComponents {
		if slices.Contains(logComponents, c.ID) {
			comps = append(comps, c)
		}
	}
	byID := func(a, b logComponent) int { return strings.Compare(a.ID, b.ID) }
	slices.SortFunc(comps, byID)
	h.Logging.LogComponents = comps
	want.Logging.LogComponents = slices.SortedFunc(slices.Values(want.Logging.LogComponents), byID)
	var diff []migration.FieldDiff
	hv, wv := reflect.ValueOf(h), reflect.ValueOf(want)
	for i := 0; i < hv.NumField(); i++ {
		if !reflect.DeepEqual(hv.Field(i).Interface(), wv.Field(i).Interface()) {
			from, _ := json.Marshal(hv.Field(i).Interface())
			to, _ := json.Marshal(wv.Field(i).Interface())
			diff = append(diff, migration.FieldDiff{Field: "settings." + hv.Type().Field(i).Name, From: string(from), To: string(to)})
		}
	}
	return diff
}
