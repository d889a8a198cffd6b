package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cutoverkit/cutover/dns"
	"github.com/cutoverkit/cutover/migration"
	"github.com/cutoverkit/cutover/network"
	"github.com/cutoverkit/cutover/tracking"
)

func cmdStatus(ctx context.Context, a *app) error {
	return a.session(ctx, func(ctx context.Context) error {
		store, err := a.store(false)
		if err != nil {
			return err
		}
		st, err := store.Status(ctx)
		if isMissingTable(err) {
			return fmt.Errorf("env %q has no tracking table: run apply first", a.spec.Env.Suffix)
		}
		if err != nil {
			return err
		}
		db := a.readDatabaseRecord(ctx)
		if a.output == "json" {
			return json.NewEncoder(a.stdout).Encode(struct {
				tracking.Status
				DatabaseRecord *databaseRecord `json:"databaseRecord,omitempty"`
			}{st, db})
		}
		return writeStatus(a.stdout, st, db)
	})
}

// databaseRecord is the database's DNS name as Route 53 answers it, and
// so the database the applications write to.
type databaseRecord struct {
	// Name is the record's name, such as db.corp.example.internal.
	Name string `json:"name"`
	// Blue is the on-premises database's host, Green the AWS one's.
	Blue  string `json:"blue,omitempty"`
	Green string `json:"green,omitempty"`
	// Split is the record's: all blue before the switch, all green after.
	Split migration.Split `json:"split"`
	// Error says why the record could not be read.
	Error string `json:"error,omitempty"`
}

// String says which database is the writer.
func (d databaseRecord) String() string {
	switch {
	case d.Error != "":
		return "writer unknown: " + d.Error
	case d.Split == migration.AllBlue:
		return fmt.Sprintf("writer on-premises: %s → %s (%s)", d.Name, d.Blue, d.Split)
	case d.Split == migration.GreenPercent(100):
		return fmt.Sprintf("writer AWS: %s → %s (%s)", d.Name, d.Green, d.Split)
	}
	return fmt.Sprintf("writer SPLIT: %s answers both %s and %s (%s): two writers; move it to one side now", d.Name, d.Blue, d.Green, d.Split)
}

// readDatabaseRecord reads the database record from Route 53 — its two
// targets and its split — in the zone the apply made (found, reading
// only, when the command discovered nothing). A failure is the record's
// Error: status shows everything else anyway.
func (a *app) readDatabaseRecord(ctx context.Context) *databaseRecord {
	rec := &databaseRecord{Name: a.spec.databaseName()}
	if err := a.readDatabaseRecordInto(ctx, rec); err != nil {
		rec.Error = err.Error()
	}
	return rec
}

func (a *app) readDatabaseRecordInto(ctx context.Context, rec *databaseRecord) error {
	env := a.env(nil)
	zoneID := a.platform.out.zone.ID
	if zoneID == "" || migration.IsPending(zoneID) {
		var err error
		if zoneID, err = a.findZone(ctx); err != nil {
			return err
		}
	}
	spec, err := dns.LoadRecords(ctx, env, a.clients.route53, zoneID, a.spec.DNS.Zone, []string{a.spec.DNS.Database.Name})
	if err != nil {
		return err
	}
	router, err := dns.NewRouter(env, a.clients.route53, zoneID, spec)
	if err != nil {
		return err
	}
	if rec.Split, err = router.Weights(ctx); err != nil {
		return err
	}
	rec.Blue, rec.Green = spec.Services[0].Blue.Host, spec.Services[0].Green.Host
	return nil
}

// findZone returns the ID of the env's private hosted zone, reading only:
// the VPC and the zone as a dry run of their Ensure finds them.
func (a *app) findZone(ctx context.Context) (string, error) {
	env := a.env(nil)
	env.DryRun = true
	vpc, err := network.EnsureVPC(ctx, env, a.clients.ec2, a.spec.vpcSpec())
	if err != nil {
		return "", err
	}
	zone, err := dns.EnsureZone(ctx, env, a.clients.route53, a.spec.zoneSpec(vpc.ID))
	if err != nil {
		return "", err
	}
	if migration.IsPending(zone.ID) {
		return "", fmt.Errorf("no zone %s: run apply", a.spec.DNS.Zone)
	}
	return zone.ID, nil
}

// writeStatus renders the whole picture, readable at a glance: phase,
// traffic, database (the writer, when db is known, and the replication),
// servers, files, validations, the last events, and for the latest
// rollback decision, why.
func writeStatus(w io.Writer, st tracking.Status, db *databaseRecord) error {
	p := st.Progress()
	fmt.Fprintf(w, "Migration %s: %s (%.0f %%)", st.Env, strings.ToUpper(string(st.Phase.Phase)), p.Percent)
	if !st.Phase.Since.IsZero() {
		fmt.Fprintf(w, " since %s", st.Phase.Since.UTC().Format(time.RFC3339))
	}
	fmt.Fprintln(w)
	if st.Phase.Reason != "" {
		fmt.Fprintf(w, "  %s%s\n", st.Phase.Reason, byActor(st.Phase.Actor))
	}

	fmt.Fprint(w, "\nTraffic   ")
	if st.Split == nil {
		fmt.Fprintln(w, "all on blue (never shifted)")
	} else {
		fmt.Fprintf(w, "%s (%.0f %% green), change %s at %s%s\n", st.Split.Split, st.Split.GreenShare(), orDash(st.Split.ChangeID), st.Split.At.UTC().Format("15:04:05"), byActor(st.Split.Actor))
	}

	fmt.Fprint(w, "\nDatabase")
	if db != nil {
		fmt.Fprintf(w, "  %s", db)
	}
	fmt.Fprintln(w)
	if len(st.Databases) == 0 {
		fmt.Fprintln(w, "  no replication recorded yet")
	}
	for _, d := range st.Databases {
		// DMS's table states ("Table completed", "Full load", ...) as
		// "tables: 6 completed, 2 full load".
		tables := make([]string, 0, len(d.Tables))
		for _, k := range slices.Sorted(maps.Keys(d.Tables)) {
			state := strings.TrimPrefix(strings.ToLower(k), "table ")
			tables = append(tables, fmt.Sprintf("%d %s", d.Tables[k], state))
		}
		summary := ""
		if len(tables) > 0 {
			summary = "tables: " + strings.Join(tables, ", ")
		}
		line := fmt.Sprintf("  %-28s %-9s lag %-8s %s", shortARN(d.Task), d.Status, max(d.Source, d.Target).Round(time.Second), summary)
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}

	fmt.Fprintf(w, "\nServers   %d: %d replicated, %d ready, %d cut over\n", p.Servers, p.Replicated, p.Ready, p.CutOver)
	byState := map[string][]string{}
	for _, s := range st.Servers {
		key := s.State
		if s.Replication != "" {
			key += "/" + s.Replication
		}
		byState[key] = append(byState[key], s.Name)
	}
	for _, k := range slices.Sorted(maps.Keys(byState)) {
		fmt.Fprintf(w, "  %-34s %s\n", k, strings.Join(byState[k], " "))
	}

	if len(st.Transfers) > 0 {
		fmt.Fprintln(w, "\nFiles")
		for _, t := range st.Transfers {
			// The env's one DataSync task, by name and ID.
			name := migration.TransferTaskName(migration.Env{Suffix: st.Env})
			fmt.Fprintf(w, "  %-28s %-12s %s of %s, %d files (%s)\n", name, strings.ToLower(t.Status), bytesHuman(t.BytesDone), bytesHuman(t.BytesTotal), t.FilesDone, shortARN(t.Task))
		}
	}

	if len(st.Validations) > 0 {
		fmt.Fprintln(w, "\nValidations")
		for _, v := range st.Validations {
			ok := 0
			var failed []string
			for _, in := range v.Instances {
				if in.Passed {
					ok++
				} else {
					failed = append(failed, orName(in))
				}
			}
			verdict := "passed"
			if !v.Passed {
				verdict = "FAILED"
			}
			fmt.Fprintf(w, "  %-44s %-6s %d/%d at %s%s\n", v.Name, verdict, ok, len(v.Instances), v.At.UTC().Format("15:04"), joinPrefixed(", failed: ", failed))
		}
	}

	if len(st.Events) > 0 {
		fmt.Fprintln(w, "\nLast events")
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, g := range groupEvents(st.Events) {
			e := g.first
			summary := e.Summary
			if g.n > 1 {
				summary = fmt.Sprintf("%s (%d times, until %s)", summary, g.n, g.last.Time.UTC().Format("15:04:05"))
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", e.Time.UTC().Format("15:04:05"), e.Type, e.Actor, summary)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if why := lastRollback(st.Events); why != nil {
		fmt.Fprintf(w, "\nWhy it rolled back (%s, %s)\n", why.Actor, why.Time.UTC().Format("15:04:05"))
		hidden := 0
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, k := range slices.Sorted(maps.Keys(why.Details)) {
			if !showDetail(why.Details, k) {
				hidden++
				continue
			}
			fmt.Fprintf(tw, "  %s\t%s\n", k, why.Details[k])
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		if hidden > 0 {
			fmt.Fprintf(w, "  (%d more details of the rules within bounds: status -o json)\n", hidden)
		}
	}
	return nil
}

// showDetail reports whether the text view shows a rollback detail: every
// one but the query, threshold, counts and datapoints of a rule that was
// within bounds ("rule.<name>: ok ..."), whose one-line summary is enough
// to read at a glance.
func showDetail(details map[string]string, key string) bool {
	rest, ok := strings.CutPrefix(key, "rule.")
	if !ok {
		return true
	}
	rule, _, sub := strings.Cut(rest, ".")
	return !sub || !strings.HasPrefix(details["rule."+rule], "ok")
}

// lastRollback returns the latest event that rolled back with details:
// the decision ledger's answer to "why did it roll back?".
func lastRollback(events []migration.HistoryEntry) *migration.HistoryEntry {
	for i := len(events) - 1; i >= 0; i-- {
		e := events[i]
		if len(e.Details) > 0 && (strings.Contains(strings.ToLower(e.Type), "rollback") || strings.Contains(strings.ToLower(e.Summary), "roll")) {
			return &e
		}
	}
	return nil
}

// eventGroup is a run of events alike but for their time: the policy's
// "continue" decisions, one a minute during a bake.
type eventGroup struct {
	first, last migration.HistoryEntry
	n           int
}

func groupEvents(events []migration.HistoryEntry) []eventGroup {
	var out []eventGroup
	for _, e := range events {
		if n := len(out); n > 0 && out[n-1].first.Type == e.Type && out[n-1].first.Actor == e.Actor && out[n-1].first.Summary == e.Summary {
			out[n-1].last, out[n-1].n = e, out[n-1].n+1
			continue
		}
		out = append(out, eventGroup{first: e, last: e, n: 1})
	}
	return out
}

// shortARN is the resource part of an ARN (what operators call it), or s.
func shortARN(s string) string {
	if !strings.HasPrefix(s, "arn:") {
		return s
	}
	if i := strings.LastIndexAny(s, ":/"); i >= 0 {
		return s[i+1:]
	}
	return s
}

func byActor(actor string) string {
	if actor == "" {
		return ""
	}
	return " (" + actor + ")"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
