package dms

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// TableRef names schemas and tables as PostgreSQL does. Names are
// literal, except "%", which matches any run of characters ("%" alone is
// every schema or table). An underscore is always a literal underscore:
// the library escapes it for DMS, where a bare "_" would match any single
// character (order_items would also select orderXitems).
type TableRef struct {
	Schema string `json:"schema" yaml:"schema"`
	Table  string `json:"table" yaml:"table"`
}

// String renders the reference as schema.table.
func (r TableRef) String() string { return r.Schema + "." + r.Table }

// TableSelection is what a task replicates: every table matched by an
// Include and by no Exclude.
type TableSelection struct {
	Include []TableRef `json:"include" yaml:"include"`
	Exclude []TableRef `json:"exclude,omitempty" yaml:"exclude,omitempty"`
}

// identifierRe is an unquoted PostgreSQL identifier (what the library
// accepts for schema, table and database names): a letter or underscore,
// then letters, digits, underscores or dollars.
var (
	identifierRe   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_$]*$`)
	patternCharsRe = regexp.MustCompile(`^[A-Za-z0-9_$]+$`)
)

// maxIdentifier is PostgreSQL's NAMEDATALEN - 1.
const maxIdentifier = 63

// checkIdentifier checks a database, schema or table name.
func checkIdentifier(s string) error {
	switch {
	case s == "":
		return errors.New("required")
	case len(s) > maxIdentifier:
		return fmt.Errorf("%q is %d bytes; PostgreSQL names are at most %d", s, len(s), maxIdentifier)
	case !identifierRe.MatchString(s):
		return fmt.Errorf("%q is not a PostgreSQL identifier (a letter or _, then letters, digits, _ or $)", s)
	}
	return nil
}

// checkPattern checks a name that may hold the "%" wildcard.
func checkPattern(s string) error {
	if s == "%" {
		return nil
	}
	if s == "" {
		return errors.New("required (use % for every name)")
	}
	if strings.Contains(s, "%%") {
		return fmt.Errorf("%q: one %% is enough", s)
	}
	literal := strings.ReplaceAll(s, "%", "")
	if literal == "" {
		return fmt.Errorf("%q is not a name pattern", s)
	}
	if len(literal) > maxIdentifier {
		return fmt.Errorf("%q: names are at most %d bytes", s, maxIdentifier)
	}
	if !patternCharsRe.MatchString(literal) || !strings.HasPrefix(s, "%") && !identifierRe.MatchString(s[:1]) {
		return fmt.Errorf("%q is not a PostgreSQL identifier pattern (letters, digits, _, $ and the %% wildcard)", s)
	}
	return nil
}

// Validate checks every name, requires at least one include, and rejects
// duplicates, an exclude that no include covers and an include that an
// exclude cancels entirely.
func (t TableSelection) Validate() error {
	var errs []error
	if len(t.Include) == 0 {
		errs = append(errs, errors.New("tables.include: at least one schema.table pattern required"))
	}
	seen := map[string]bool{}
	for kind, refs := range map[string][]TableRef{"include": t.Include, "exclude": t.Exclude} {
		for i, r := range refs {
			if err := checkPattern(r.Schema); err != nil {
				errs = append(errs, fmt.Errorf("tables.%s[%d].schema: %w", kind, i, err))
			}
			if err := checkPattern(r.Table); err != nil {
				errs = append(errs, fmt.Errorf("tables.%s[%d].table: %w", kind, i, err))
			}
			if seen[r.String()] {
				errs = append(errs, fmt.Errorf("tables.%s[%d]: %s listed twice", kind, i, r))
			}
			seen[r.String()] = true
		}
	}
	for i, x := range t.Exclude {
		covered := false
		for _, in := range t.Include {
			inner := covers(in.Schema, x.Schema) && covers(in.Table, x.Table)
			swallows := covers(x.Schema, in.Schema) && covers(x.Table, in.Table)
			if swallows {
				errs = append(errs, fmt.Errorf("tables.exclude[%d]: %s excludes everything include %s selects", i, x, in))
			}
			covered = covered || inner || swallows
		}
		if !covered {
			errs = append(errs, fmt.Errorf("tables.exclude[%d]: %s excludes nothing any include selects", i, x))
		}
	}
	return errors.Join(errs...)
}

// covers reports whether pattern p matches every name q matches (q may
// itself be a pattern).
func covers(p, q string) bool {
	if !strings.Contains(q, "%") {
		return like(p, q)
	}
	// q is a pattern: p covers it when p matches q with q's wildcards
	// read literally and p's "%" can absorb them.
	return like(p, q) && (strings.Contains(p, "%") || p == q)
}

// like matches name against a pattern with "%".
func like(pattern, name string) bool {
	re := "^" + strings.ReplaceAll(regexp.QuoteMeta(pattern), "%", ".*") + "$"
	return regexp.MustCompile(re).MatchString(name)
}

// dmsPattern escapes a name pattern for a DMS object locator: "_" is a
// single-character wildcard in DMS, "[_]" a literal underscore.
func dmsPattern(s string) string { return strings.ReplaceAll(s, "_", "[_]") }

// tableMappings is the DMS table-mapping document.
type tableMappings struct {
	Rules []mappingRule `json:"rules"`
}

type mappingRule struct {
	RuleType      string        `json:"rule-type"`
	RuleID        string        `json:"rule-id"`
	RuleName      string        `json:"rule-name"`
	ObjectLocator objectLocator `json:"object-locator"`
	RuleAction    string        `json:"rule-action"`
	Filters       []any         `json:"filters"`
}

type objectLocator struct {
	SchemaName string `json:"schema-name"`
	TableName  string `json:"table-name"`
}

// controlTables is the name pattern of the tables DMS itself creates in
// the databases it touches: awsdms_heartbeat on a source with the
// heartbeat on, awsdms_ddl_audit when DDL capture is on, and on a target
// the control tables (awsdms_apply_exceptions, awsdms_status, …) in its
// control schema, public by default. Every task excludes them, so neither
// direction copies DMS's bookkeeping: the reverse task reads the database
// the forward task writes its control tables to.
var controlTables = TableRef{Schema: "%", Table: "awsdms_%"}

// mappings builds the selection rules: includes first, then excludes
// (DMS applies an exclude to what the includes selected), then the
// exclusion of DMS's own control tables.
func (t TableSelection) mappings() tableMappings {
	var m tableMappings
	add := func(action string, r TableRef, name string) {
		id := strconv.Itoa(len(m.Rules) + 1)
		m.Rules = append(m.Rules, mappingRule{
			RuleType: "selection", RuleID: id, RuleName: cmp.Or(name, action+"-"+id),
			ObjectLocator: objectLocator{SchemaName: dmsPattern(r.Schema), TableName: dmsPattern(r.Table)},
			RuleAction:    action, Filters: []any{},
		})
	}
	for _, r := range t.Include {
		add("include", r, "")
	}
	for _, r := range t.Exclude {
		add("exclude", r, "")
	}
	add("exclude", controlTables, "exclude-dms-control-tables")
	return m
}

// MappingsJSON returns the DMS table mappings of the selection, built from
// Go types.
func (t TableSelection) MappingsJSON() string {
	b, _ := json.Marshal(t.mappings()) // plain strings: cannot fail
	return string(b)
}

// sameMappings compares a task's mappings document with the wanted one,
// ignoring formatting and the order of object keys.
func sameMappings(have string, want tableMappings) bool {
	var h tableMappings
	if err := json.Unmarshal([]byte(have), &h); err != nil || len(h.Rules) != len(want.Rules) {
		return false
	}
	for i := range h.Rules {
		a, b := h.Rules[i], want.Rules[i]
		if a.RuleType != b.RuleType || a.RuleID != b.RuleID || a.RuleName != b.RuleName || a.ObjectLocator != b.ObjectLocator || a.RuleAction != b.RuleAction || len(a.Filters) != 0 {
			return false
		}
	}
	return true
}
