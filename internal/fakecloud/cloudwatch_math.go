package fakecloud

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// The metric-math subset the fake evaluates, for GetMetricData and for
// alarms on expressions:
//
//   - numbers, query IDs (lower-case first letter), parentheses;
//   - + - * / and unary minus; comparisons > >= < <= == != (1 or 0);
//     AND/&&, OR/||, NOT/! on those;
//   - FILL(x, c): x with every missing timestamp of the call filled with
//     the constant c;
//   - IF(cond, a) and IF(cond, a, b): a where cond is non-zero, else b, else
//     no datapoint;
//   - ABS(x); MAX([a, b, ...]) and MIN([a, b, ...]) per timestamp.
//
// The timestamps "of the call" are every timestamp any query of the call
// returned: that is what FILL fills. Two time series combine only at the
// timestamps both have; a division by zero gives no datapoint at that
// timestamp. The result must be a time series, not a scalar. Anything else
// is an error, which GetMetricData reports as ValidationError.
func init() { MetricExpression = evalMetricMath }

// mathValue is a scalar or a time series keyed by Unix seconds.
type mathValue struct {
	scalar bool
	s      float64
	pts    map[int64]float64
}

func scalarValue(v float64) mathValue { return mathValue{scalar: true, s: v} }

type mathParser struct {
	toks    []string
	pos     int
	results map[string]Timeseries
	grid    []int64
}

func evalMetricMath(expr string, results map[string]Timeseries) (Timeseries, error) {
	toks, err := mathTokens(expr)
	if err != nil {
		return Timeseries{}, err
	}
	if len(toks) == 0 {
		return Timeseries{}, fmt.Errorf("empty expression")
	}
	grid := map[int64]bool{}
	for _, ts := range results {
		for _, t := range ts.Times {
			grid[t.Unix()] = true
		}
	}
	p := &mathParser{toks: toks, results: results}
	for t := range grid {
		p.grid = append(p.grid, t)
	}
	slices.Sort(p.grid)
	v, err := p.or()
	if err != nil {
		return Timeseries{}, err
	}
	if p.pos != len(p.toks) {
		return Timeseries{}, fmt.Errorf("unexpected %q at token %d", p.toks[p.pos], p.pos+1)
	}
	if v.scalar {
		return Timeseries{}, fmt.Errorf("the expression must return a time series, not a single value")
	}
	var out Timeseries
	keys := make([]int64, 0, len(v.pts))
	for k := range v.pts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		out.Times = append(out.Times, time.Unix(k, 0).UTC())
		out.Values = append(out.Values, v.pts[k])
	}
	return out, nil
}

func mathTokens(s string) ([]string, error) {
	var toks []string
	for i := 0; i < len(s); {
		c := rune(s[i])
		switch {
		case unicode.IsSpace(c):
			i++
		case c >= '0' && c <= '9' || c == '.':
			j := i
			for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == '.' || s[j] == 'e' || s[j] == 'E' ||
				(s[j] == '-' || s[j] == '+') && j > i && (s[j-1] == 'e' || s[j-1] == 'E')) {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		case unicode.IsLetter(c) || c == '_':
			j := i
			for j < len(s) && (unicode.IsLetter(rune(s[j])) || unicode.IsDigit(rune(s[j])) || s[j] == '_') {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		default:
			two := ""
			if i+1 < len(s) {
				two = s[i : i+2]
			}
			switch two {
			case ">=", "<=", "==", "!=", "&&", "||":
				toks = append(toks, two)
				i += 2
				continue
			}
			if !strings.ContainsRune("+-*/()<>!,[]", c) {
				return nil, fmt.Errorf("unexpected character %q", c)
			}
			toks = append(toks, string(c))
			i++
		}
	}
	return toks, nil
}

func (p *mathParser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *mathParser) expect(tok string) error {
	if p.peek() != tok {
		if p.peek() == "" {
			return fmt.Errorf("expected %q at the end of the expression", tok)
		}
		return fmt.Errorf("expected %q, found %q", tok, p.peek())
	}
	p.pos++
	return nil
}

func (p *mathParser) or() (mathValue, error) {
	l, err := p.and()
	for err == nil && (p.peek() == "OR" || p.peek() == "||") {
		p.pos++
		var r mathValue
		if r, err = p.and(); err == nil {
			l = combine(l, r, func(a, b float64) (float64, bool) { return b2f(a != 0 || b != 0), true })
		}
	}
	return l, err
}

func (p *mathParser) and() (mathValue, error) {
	l, err := p.not()
	for err == nil && (p.peek() == "AND" || p.peek() == "&&") {
		p.pos++
		var r mathValue
		if r, err = p.not(); err == nil {
			l = combine(l, r, func(a, b float64) (float64, bool) { return b2f(a != 0 && b != 0), true })
		}
	}
	return l, err
}

func (p *mathParser) not() (mathValue, error) {
	if p.peek() == "NOT" || p.peek() == "!" {
		p.pos++
		v, err := p.not()
		if err != nil {
			return v, err
		}
		return mapValue(v, func(a float64) (float64, bool) { return b2f(a == 0), true }), nil
	}
	return p.cmp()
}

func (p *mathParser) cmp() (mathValue, error) {
	l, err := p.add()
	if err != nil {
		return l, err
	}
	var f func(a, b float64) bool
	switch p.peek() {
	case ">":
		f = func(a, b float64) bool { return a > b }
	case ">=":
		f = func(a, b float64) bool { return a >= b }
	case "<":
		f = func(a, b float64) bool { return a < b }
	case "<=":
		f = func(a, b float64) bool { return a <= b }
	case "==":
		f = func(a, b float64) bool { return a == b }
	case "!=":
		f = func(a, b float64) bool { return a != b }
	default:
		return l, nil
	}
	p.pos++
	r, err := p.add()
	if err != nil {
		return r, err
	}
	return combine(l, r, func(a, b float64) (float64, bool) { return b2f(f(a, b)), true }), nil
}

func (p *mathParser) add() (mathValue, error) {
	l, err := p.mul()
	for err == nil && (p.peek() == "+" || p.peek() == "-") {
		op := p.toks[p.pos]
		p.pos++
		var r mathValue
		if r, err = p.mul(); err == nil {
			l = combine(l, r, func(a, b float64) (float64, bool) {
				if op == "+" {
					return a + b, true
				}
				return a - b, true
			})
		}
	}
	return l, err
}

func (p *mathParser) mul() (mathValue, error) {
	l, err := p.unary()
	for err == nil && (p.peek() == "*" || p.peek() == "/") {
		op := p.toks[p.pos]
		p.pos++
		var r mathValue
		if r, err = p.unary(); err == nil {
			l = combine(l, r, func(a, b float64) (float64, bool) {
				if op == "*" {
					return a * b, true
				}
				if b == 0 {
					return 0, false
				}
				return a / b, true
			})
		}
	}
	return l, err
}

func (p *mathParser) unary() (mathValue, error) {
	if p.peek() == "-" {
		p.pos++
		v, err := p.unary()
		if err != nil {
			return v, err
		}
		return mapValue(v, func(a float64) (float64, bool) { return -a, true }), nil
	}
	return p.primary()
}

func (p *mathParser) primary() (mathValue, error) {
	tok := p.peek()
	switch {
	case tok == "":
		return mathValue{}, fmt.Errorf("unexpected end of the expression")
	case tok == "(":
		p.pos++
		v, err := p.or()
		if err != nil {
			return v, err
		}
		return v, p.expect(")")
	case tok[0] >= '0' && tok[0] <= '9' || tok[0] == '.':
		p.pos++
		f, err := strconv.ParseFloat(tok, 64)
		if err != nil {
			return mathValue{}, fmt.Errorf("bad number %q", tok)
		}
		return scalarValue(f), nil
	case tok[0] >= 'a' && tok[0] <= 'z':
		p.pos++
		ts, ok := p.results[tok]
		if !ok {
			return mathValue{}, fmt.Errorf("unknown query id %q", tok)
		}
		v := mathValue{pts: map[int64]float64{}}
		for i, t := range ts.Times {
			v.pts[t.Unix()] = ts.Values[i]
		}
		return v, nil
	case tok[0] >= 'A' && tok[0] <= 'Z':
		p.pos++
		return p.call(tok)
	}
	return mathValue{}, fmt.Errorf("unexpected %q", tok)
}

func (p *mathParser) call(fn string) (mathValue, error) {
	if err := p.expect("("); err != nil {
		return mathValue{}, fmt.Errorf("%s: %w", fn, err)
	}
	var args []mathValue
	var arrays [][]mathValue
	for p.peek() != ")" {
		if len(args)+len(arrays) > 0 {
			if err := p.expect(","); err != nil {
				return mathValue{}, fmt.Errorf("%s: %w", fn, err)
			}
		}
		if p.peek() == "[" {
			p.pos++
			var arr []mathValue
			for p.peek() != "]" {
				if len(arr) > 0 {
					if err := p.expect(","); err != nil {
						return mathValue{}, fmt.Errorf("%s: %w", fn, err)
					}
				}
				v, err := p.or()
				if err != nil {
					return v, err
				}
				arr = append(arr, v)
			}
			p.pos++
			arrays = append(arrays, arr)
			continue
		}
		v, err := p.or()
		if err != nil {
			return v, err
		}
		args = append(args, v)
	}
	p.pos++
	switch fn {
	case "FILL":
		if len(args) != 2 || len(arrays) > 0 || args[0].scalar || !args[1].scalar {
			return mathValue{}, fmt.Errorf("FILL takes a time series and a constant (the fake supports no REPEAT or LINEAR)")
		}
		out := mathValue{pts: map[int64]float64{}}
		for _, t := range p.grid {
			if v, ok := args[0].pts[t]; ok {
				out.pts[t] = v
			} else {
				out.pts[t] = args[1].s
			}
		}
		return out, nil
	case "IF":
		if len(arrays) > 0 || len(args) < 2 || len(args) > 3 {
			return mathValue{}, fmt.Errorf("IF takes a condition and one or two values")
		}
		return p.ifValue(args), nil
	case "ABS":
		if len(args) != 1 || len(arrays) > 0 {
			return mathValue{}, fmt.Errorf("ABS takes one argument")
		}
		return mapValue(args[0], func(a float64) (float64, bool) { return math.Abs(a), true }), nil
	case "MAX", "MIN":
		if len(arrays) != 1 || len(args) > 0 || len(arrays[0]) == 0 {
			return mathValue{}, fmt.Errorf("%s: the fake supports only %s([a, b, ...]) over time series", fn, fn)
		}
		out := mathValue{pts: map[int64]float64{}}
		for _, v := range arrays[0] {
			if v.scalar {
				return mathValue{}, fmt.Errorf("%s: array elements must be time series", fn)
			}
			for t, x := range v.pts {
				cur, ok := out.pts[t]
				if !ok || (fn == "MAX" && x > cur) || (fn == "MIN" && x < cur) {
					out.pts[t] = x
				}
			}
		}
		return out, nil
	}
	return mathValue{}, fmt.Errorf("function %s is not supported by the fake", fn)
}

// ifValue evaluates IF(cond, a[, b]) at the call's timestamps.
func (p *mathParser) ifValue(args []mathValue) mathValue {
	at := func(v mathValue, t int64) (float64, bool) {
		if v.scalar {
			return v.s, true
		}
		x, ok := v.pts[t]
		return x, ok
	}
	if args[0].scalar && (args[1].scalar && (len(args) == 2 || args[2].scalar)) {
		if args[0].s != 0 {
			return args[1]
		}
		if len(args) == 3 {
			return args[2]
		}
		return mathValue{pts: map[int64]float64{}}
	}
	out := mathValue{pts: map[int64]float64{}}
	for _, t := range p.grid {
		c, ok := at(args[0], t)
		if !ok {
			continue
		}
		var v float64
		if c != 0 {
			v, ok = at(args[1], t)
		} else if len(args) == 3 {
			v, ok = at(args[2], t)
		} else {
			ok = false
		}
		if ok {
			out.pts[t] = v
		}
	}
	return out
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func mapValue(v mathValue, f func(float64) (float64, bool)) mathValue {
	if v.scalar {
		r, ok := f(v.s)
		if !ok {
			return mathValue{pts: map[int64]float64{}}
		}
		return scalarValue(r)
	}
	out := mathValue{pts: make(map[int64]float64, len(v.pts))}
	for t, x := range v.pts {
		if r, ok := f(x); ok && !math.IsNaN(r) {
			out.pts[t] = r
		}
	}
	return out
}

// combine applies a binary operation: scalar with scalar, a series with a
// scalar at each of its timestamps, two series at the timestamps both have.
func combine(l, r mathValue, f func(a, b float64) (float64, bool)) mathValue {
	switch {
	case l.scalar && r.scalar:
		v, ok := f(l.s, r.s)
		if !ok {
			return mathValue{pts: map[int64]float64{}}
		}
		return scalarValue(v)
	case l.scalar:
		return mapValue(r, func(b float64) (float64, bool) { return f(l.s, b) })
	case r.scalar:
		return mapValue(l, func(a float64) (float64, bool) { return f(a, r.s) })
	}
	out := mathValue{pts: map[int64]float64{}}
	for t, a := range l.pts {
		if b, ok := r.pts[t]; ok {
			if v, ok := f(a, b); ok && !math.IsNaN(v) {
				out.pts[t] = v
			}
		}
	}
	return out
}
