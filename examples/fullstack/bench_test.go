package main

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/cutoverkit/cutover/internal/fakecloud"
	"github.com/cutoverkit/cutover/migration"
)

// The benchmarks the design promises for apply: a dry-run plan of the
// reference platform, a converged apply (API calls per resource) and a
// full apply on an empty simulated cloud (its simulated duration is the
// critical path of the runbook's DAG).

// benchApp is testApp(t, 0) for a benchmark: the default spec on a fresh
// simulated cloud with the skip-ahead clock and the on-premises side in
// place, no background world.
func benchApp(tb testing.TB) (*app, *fakecloud.Cloud) {
	tb.Helper()
	out := &bytes.Buffer{}
	a := &app{stdout: out, stderr: out, output: "text"}
	if err := a.load(); err != nil {
		tb.Fatal(err)
	}
	cloud := fakecloud.New(fakecloud.WithClock(fakecloud.NewClock(fakecloud.Epoch)))
	world := newSimWorld(a.spec, cloud)
	a.use(simClients(cloud), world)
	if err := world.onPremises(context.Background(), a.env(nil)); err != nil {
		tb.Fatal(err)
	}
	return a, cloud
}

// benchRunbook returns the platform's runbook without progress output, as
// plan and the tests build it.
func benchRunbook(tb testing.TB, a *app) *migration.Runbook {
	tb.Helper()
	rb, err := a.runbook(true)
	if err != nil {
		tb.Fatal(err)
	}
	return rb
}

// tally counts the calls of the log after mark: all, writes to resources,
// and writes to the tracking table's items (the runbook's lease and its
// events: bookkeeping, see isBookkeeping).
func tally(cloud *fakecloud.Cloud, mark int) (calls, writes, bookkeeping int, first string) {
	for _, c := range cloud.Calls()[mark:] {
		calls++
		switch {
		case c.Write && isBookkeeping(c):
			bookkeeping++
		case c.Write:
			writes++
			if first == "" {
				first = c.Service + " " + c.Op
			}
		}
	}
	return calls, writes, bookkeeping, first
}

// BenchmarkPlan is a dry-run plan of the whole reference platform on an
// empty simulated cloud: every resource is a create, and every call a
// read. It reports the creates (resources/op) and the API calls (calls/op).
func BenchmarkPlan(b *testing.B) {
	ctx := context.Background()
	a, cloud := benchApp(b)
	rb := benchRunbook(b, a)
	var calls, creates int
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		report := &migration.Report{}
		env := a.env(report)
		mark := len(cloud.Calls())
		b.StartTimer()

		err := rb.Plan(ctx, env)

		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		c := report.Counts()
		if c[migration.ActionCreate] == 0 || c[migration.ActionUpdate]+c[migration.ActionDelete] > 0 {
			b.Fatalf("a plan on an empty cloud: %s", report.Summary())
		}
		n, writes, bookkeeping, first := tally(cloud, mark)
		if writes+bookkeeping > 0 {
			b.Fatalf("the plan made %d write calls (first: %s) and %d writes to the tracking table", writes, first, bookkeeping)
		}
		calls += n
		creates += c[migration.ActionCreate]
		b.StartTimer()
	}
	n := float64(b.N)
	b.ReportMetric(float64(creates)/n, "resources/op")
	b.ReportMetric(float64(calls)/n, "calls/op")
}

// BenchmarkApplyConverged applies the platform once (setup), then times
// an apply of the converged platform: every resource a noop and no write
// to any resource. It reports the API calls (calls/op), per resource of
// the report (calls/resource), and the writes to the tracking table that
// the runbook's lease makes (lease-writes/op), which are bookkeeping.
func BenchmarkApplyConverged(b *testing.B) {
	ctx := context.Background()
	a, cloud := benchApp(b)
	rb := benchRunbook(b, a)
	if err := rb.Apply(ctx, a.env(&migration.Report{})); err != nil {
		b.Fatal(err)
	}
	var calls, resources, bookkeepingTotal int
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		report := &migration.Report{}
		env := a.env(report)
		mark := len(cloud.Calls())
		b.StartTimer()

		err := rb.Apply(ctx, env)

		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		changes := report.Changes()
		for _, c := range changes {
			if c.Action != migration.ActionNoop {
				b.Fatalf("a converged apply reports %s", c)
			}
		}
		if len(changes) == 0 {
			b.Fatal("a converged apply reports no resource")
		}
		n, writes, bookkeeping, first := tally(cloud, mark)
		if writes > 0 {
			b.Fatalf("a converged apply made %d write calls (first: %s)", writes, first)
		}
		calls += n
		resources += len(changes)
		bookkeepingTotal += bookkeeping
		b.StartTimer()
	}
	n := float64(b.N)
	b.ReportMetric(float64(calls)/n, "calls/op")
	b.ReportMetric(float64(calls)/float64(resources), "calls/resource")
	b.ReportMetric(float64(bookkeepingTotal)/n, "lease-writes/op")
}

// BenchmarkApply is a full apply of the platform on a fresh simulated
// cloud per iteration (made with the timer stopped). The fake's
// asynchronous resources (NAT gateways, the VPN, the DMS instance, the
// database, ...) take simulated minutes and independent steps run at
// once, so the simulated minutes the apply took (sim-min/op) are the
// critical path of the runbook's DAG. It also reports the API calls
// (calls/op) and the writes among them (writes/op, the tracking table's
// included).
func BenchmarkApply(b *testing.B) {
	ctx := context.Background()
	var sim time.Duration
	var calls, writes, creates int
	b.ReportAllocs()
	b.StopTimer()
	for range b.N {
		a, cloud := benchApp(b)
		rb := benchRunbook(b, a)
		report := &migration.Report{}
		env := a.env(report)
		mark := len(cloud.Calls())
		start := cloud.Clock().Now()
		b.StartTimer()

		err := rb.Apply(ctx, env)

		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		created := report.Counts()[migration.ActionCreate]
		if created == 0 {
			b.Fatalf("an apply on an empty cloud created nothing: %s", report.Summary())
		}
		n, w, bookkeeping, _ := tally(cloud, mark)
		sim += cloud.Clock().Now().Sub(start)
		calls += n
		writes += w + bookkeeping
		creates += created
	}
	n := float64(b.N)
	b.ReportMetric(sim.Minutes()/n, "sim-min/op")
	b.ReportMetric(float64(calls)/n, "calls/op")
	b.ReportMetric(float64(writes)/n, "writes/op")
	b.ReportMetric(float64(creates)/n, "resources/op")
}
