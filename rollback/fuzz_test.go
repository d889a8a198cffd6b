package rollback_test

import (
	"encoding/binary"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/cutoverkit/cutover/migration"
	"github.com/cutoverkit/cutover/rollback"
)

// floats reads b as little-endian float64s: every bit pattern, NaNs and
// infinities included.
func floats(b []byte) []float64 {
	var out []float64
	for len(b) >= 8 {
		out = append(out, math.Float64frombits(binary.LittleEndian.Uint64(b)))
		b = b[8:]
	}
	return out
}

func fbytes(vs ...float64) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
	}
	return b
}

// FuzzEvaluate feeds the engine arbitrary rules and datapoints: it must
// never panic, must return one of the four verdicts, must count within
// the evaluation range and must be deterministic. The seeds run in every
// `go test`; `go test -fuzz FuzzEvaluate ./rollback` explores further.
func FuzzEvaluate(f *testing.F) {
	f.Add(10.0, uint16(3), uint16(2), uint8(0), 0.0, uint16(0), uint16(0), int64(1_793_000_000), int64(0), fbytes(1, 20, 30), fbytes(100, 100, 100), int64(10))
	f.Add(math.NaN(), uint16(3), uint16(2), uint8(1), 0.0, uint16(0), uint16(0), int64(1_793_000_000), int64(0), fbytes(1), []byte(nil), int64(0))
	f.Add(0.0, uint16(0), uint16(0), uint8(2), math.Inf(1), uint16(1), uint16(9), int64(0), int64(0), []byte(nil), []byte(nil), int64(-1))
	f.Add(1.0, uint16(1440), uint16(1440), uint8(3), 5.0, uint16(2000), uint16(1), int64(math.MaxInt64), int64(math.MinInt64), fbytes(math.Inf(1), math.Inf(-1), math.NaN(), math.MaxFloat64, -math.MaxFloat64, math.SmallestNonzeroFloat64), fbytes(math.NaN(), 5, 4), int64(math.MaxInt64))
	f.Add(-1e308, uint16(65535), uint16(65535), uint8(255), -3.0, uint16(65535), uint16(65535), int64(-62_135_596_800), int64(253_402_300_799), make([]byte, 8*4096), fbytes(1e308), int64(1<<62))
	f.Fuzz(func(t *testing.T, threshold float64, n, m uint16, mode uint8, minSamples float64, clearAfter, errLimit uint16, atUnix, notBeforeUnix int64, values, samples []byte, lagNanos int64) {
		modes := []rollback.MissingData{"", rollback.MissingBreaching, rollback.MissingNotBreaching, rollback.MissingIgnore, rollback.MissingInconclusive, "bogus"}
		comps := []rollback.Comparator{rollback.GreaterThan, rollback.GreaterThanOrEqual, rollback.LessThan, rollback.LessThanOrEqual}
		rule := rollback.Rule{
			Name:       "fuzz",
			Query:      rollback.Query{Metric: &rollback.Metric{Namespace: "F", Name: "f", Stat: "Maximum"}, Period: time.Minute},
			Comparator: comps[int(mode)%len(comps)], Threshold: threshold,
			EvaluationPeriods: int(n), DatapointsToAlarm: int(m), Missing: modes[int(mode)%len(modes)],
			MinSamples: minSamples, ClearAfter: int(clearAfter), ErrorLimit: int(errLimit),
		}
		now := time.Unix(atUnix%(1<<40), 0).UTC()
		var pts, sms []rollback.Point
		for i, v := range floats(values) {
			pts = append(pts, rollback.Point{Time: now.Add(-time.Duration(i) * 37 * time.Second), Value: v})
		}
		for i, v := range floats(samples) {
			sms = append(sms, rollback.Point{Time: now.Add(-time.Duration(i) * time.Minute), Value: v})
		}
		obs := rollback.Observations{
			At: now, NotBefore: time.Unix(notBeforeUnix%(1<<40), 0),
			Series:     map[string]rollback.Series{"fuzz": {Points: pts, Samples: sms}},
			ReverseLag: &migration.ReplicationLag{Status: "running", Target: time.Duration(lagNanos)},
			Previous:   rollback.State{Rules: map[string]rollback.RuleState{"fuzz": {Status: rollback.StatusBreaching, Breached: mode%2 == 0, Errors: int(errLimit)}}},
		}
		p := rollback.Policy{Rules: []rollback.Rule{rule}, DataLossBudget: time.Minute}
		d := rollback.Evaluate(p, obs)
		switch d.Verdict {
		case rollback.Continue, rollback.Hold, rollback.Rollback, rollback.Freeze:
		default:
			t.Fatalf("unknown verdict %q", d.Verdict)
		}
		if d.Reason == "" {
			t.Fatal("a decision without a reason")
		}
		if p.Validate() != nil {
			if d.Verdict != rollback.Hold {
				t.Fatalf("invalid policy decided %s", d.Verdict)
			}
			return
		}
		if len(d.Rules) != 1 {
			t.Fatalf("%d rule results for one rule", len(d.Rules))
		}
		r := d.Rules[0]
		if r.Evaluated > rule.EvaluationPeriods || r.Breaching+r.Missing > r.Evaluated || r.Breaching < 0 || r.Missing < 0 {
			t.Fatalf("counts out of range: %+v", r)
		}
		if again := rollback.Evaluate(p, obs); !reflect.DeepEqual(again, d) {
			t.Fatal("Evaluate is not deterministic")
		}
		// The ledger rendering never panics either.
		_ = rollback.DecisionDetails(p, d)
	})
}

// FuzzDecodeAlarmEvents checks the Lambda's decoder never panics and
// never returns an event without a name and a state.
func FuzzDecodeAlarmEvents(f *testing.F) {
	f.Add([]byte(`{"source":"aws.cloudwatch","alarmArn":"arn:aws:cloudwatch:us-east-1:123456789012:alarm:a","alarmData":{"alarmName":"a","state":{"value":"ALARM","timestamp":"2026-11-02T10:00:00.000+0000"}}}`))
	f.Add([]byte(`{"version":"0","detail-type":"CloudWatch Alarm State Change","source":"aws.cloudwatch","resources":["arn"],"detail":{"alarmName":"a","state":{"value":"OK"}}}`))
	f.Add([]byte(`{"Records":[{"EventSource":"aws:sns","Sns":{"Message":"{\"AlarmName\":\"a\",\"NewStateValue\":\"ALARM\"}"}}]}`))
	f.Add([]byte(`{"Records":[{"EventSource":"aws:sns","Sns":{"Message":"not json"}}]}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"source":"aws.cloudwatch","detail-type":"CloudWatch Alarm State Change","detail":null}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		evs, err := rollback.DecodeAlarmEvents(payload)
		if err != nil {
			return
		}
		for _, ev := range evs {
			if ev.AlarmName == "" || ev.State == "" || ev.Via == "" {
				t.Fatalf("incomplete event %+v", ev)
			}
		}
	})
}
