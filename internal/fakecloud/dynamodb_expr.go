package fakecloud

// DynamoDB expressions: condition, key condition, filter, update and
// projection expressions, parsed and evaluated the way DynamoDB does.
//
// Grammar (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.OperatorsAndFunctions.html):
//
//	condition  := or
//	or         := and { OR and }
//	and        := not { AND not }
//	not        := NOT not | primary
//	primary    := "(" condition ")"
//	            | attribute_exists(path) | attribute_not_exists(path)
//	            | attribute_type(path, :t) | begins_with(path, operand) | contains(path, operand)
//	            | operand cmp operand | operand BETWEEN operand AND operand
//	            | operand IN "(" operand { "," operand } ")"
//	operand    := path | :value | size(path)
//	update     := { SET action {, action} | REMOVE path {, path} | ADD path :v {, ...} | DELETE path :v {, ...} }
//	action     := path = value
//	value      := term [ ("+" | "-") term ]
//	term       := path | :value | if_not_exists(path, term) | list_append(term, term)
//
// Keywords (AND, OR, NOT, BETWEEN, IN, SET, ...) are case-insensitive;
// function names are case-sensitive, as in DynamoDB. Placeholders (#name,
// :value) must be defined, and every defined placeholder must be used by
// some expression of the request.

import (
	"bytes"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

type av = types.AttributeValue

// ---- tokens ----

type tokKind int

const (
	tEOF tokKind = iota
	tIdent
	tName   // #name
	tValue  // :value
	tNumber // list index
	tLParen
	tRParen
	tComma
	tDot
	tLBracket
	tRBracket
	tEq
	tNe
	tLt
	tLe
	tGt
	tGe
	tPlus
	tMinus
)

type token struct {
	kind tokKind
	text string
	pos  int
}

func isIdentStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isIdentChar(c byte) bool  { return isIdentStart(c) || c >= '0' && c <= '9' }

func tokenize(s string) ([]token, error) {
	var out []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
			continue
		case c == '#' || c == ':':
			j := i + 1
			for j < len(s) && (isIdentChar(s[j]) || s[j] == '-') {
				j++
			}
			if j == i+1 {
				//lint:ignore ST1005 DynamoDB's own message, as the SDK returns it
				return nil, fmt.Errorf("Syntax error; token: %q, near: %q", string(c), near(s, i))
			}
			k := tName
			if c == ':' {
				k = tValue
			}
			out = append(out, token{k, s[i:j], i})
			i = j
			continue
		case isIdentStart(c):
			j := i + 1
			for j < len(s) && isIdentChar(s[j]) {
				j++
			}
			out = append(out, token{tIdent, s[i:j], i})
			i = j
			continue
		case c >= '0' && c <= '9':
			j := i + 1
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			out = append(out, token{tNumber, s[i:j], i})
			i = j
			continue
		}
		two := ""
		if i+1 < len(s) {
			two = s[i : i+2]
		}
		switch two {
		case "<>":
			out = append(out, token{tNe, two, i})
			i += 2
			continue
		case "<=":
			out = append(out, token{tLe, two, i})
			i += 2
			continue
		case ">=":
			out = append(out, token{tGe, two, i})
			i += 2
			continue
		}
		k, ok := map[byte]tokKind{'(': tLParen, ')': tRParen, ',': tComma, '.': tDot, '[': tLBracket, ']': tRBracket, '=': tEq, '<': tLt, '>': tGt, '+': tPlus, '-': tMinus}[c]
		if !ok {
			//lint:ignore ST1005 DynamoDB's own message, as the SDK returns it
			return nil, fmt.Errorf("Invalid character encountered; character: %q, near: %q", string(c), near(s, i))
		}
		out = append(out, token{k, string(c), i})
		i++
	}
	out = append(out, token{tEOF, "<EOF>", len(s)})
	return out, nil
}

func near(s string, i int) string {
	end := min(i+12, len(s))
	return s[i:end]
}

// reservedWords is the part of DynamoDB's reserved-word list
// (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ReservedWords.html)
// that attribute names commonly collide with. DynamoDB refuses them
// unquoted in any expression; the fake does the same for this subset, so
// code that forgets an #alias fails here as it would in AWS.
var reservedWords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`ABORT ACTION ADD AFTER ALL ALTER AND ANY ARRAY AS ASC AT ATTRIBUTE AUTO
		BACKUP BATCH BEGIN BETWEEN BINARY BLOB BOOLEAN BY BYTE CALL CASE CAST CHAR CHARACTER CHECK CLOSE
		COLUMN COMMENT COMMIT CONDITION CONNECTION COUNT COUNTER CREATE CURRENT CURSOR DATA DATABASE DATE
		DATETIME DAY DECIMAL DEFAULT DELETE DESC DESCRIBE DISABLE DOUBLE DROP DURATION EACH ELSE EMPTY ENABLE END
		ERROR EXISTS FALSE FILE FILTER FIRST FLOAT FOR FROM FULL FUNCTION GROUP  HOUR IF IN INDEX INSERT
		INTEGER INTO IS   JOIN KEY KEYS LAST  LIMIT LIST   MAP MATCH MAX MIN MINUTE 
		MONTH NAME  NOT NULL NUMBER OBJECT OF  ON OR ORDER  PARTITION PATH PERCENT PERCENTILE
		RANGE READ   REGION REMOVE REPLACE RETURN  ROW ROWS SECOND SELECT SESSION SET SIZE
		SOURCE START STATE STATUS STRING SYSTEM TABLE  TEXT TIME TIMESTAMP TO   TRUE TTL TYPE
		UNIQUE UPDATE USER USERS VALUE VALUES VIEW WHEN WHERE WITH WRITE YEAR ZONE`) {
		reservedWords[w] = true
	}
}

// ---- parse context ----

// exprCtx resolves placeholders for all the expressions of one request and
// tracks which were used.
type exprCtx struct {
	names      map[string]string
	values     map[string]av
	usedNames  map[string]bool
	usedValues map[string]bool
	what       string // "ConditionExpression", ... for messages
}

func newExprCtx(names map[string]string, values map[string]av) *exprCtx {
	return &exprCtx{names: names, values: values, usedNames: map[string]bool{}, usedValues: map[string]bool{}}
}

// checkUnused reports placeholders defined but used by no expression.
func (x *exprCtx) checkUnused() error {
	var un []string
	for k := range x.names {
		if !x.usedNames[k] {
			un = append(un, k)
		}
	}
	if len(un) > 0 {
		slices.Sort(un)
		return apiError("ValidationException", "Value provided in ExpressionAttributeNames unused in expressions: keys: {%s}", strings.Join(un, ", "))
	}
	for k := range x.values {
		if !x.usedValues[k] {
			un = append(un, k)
		}
	}
	if len(un) > 0 {
		slices.Sort(un)
		return apiError("ValidationException", "Value provided in ExpressionAttributeValues unused in expressions: keys: {%s}", strings.Join(un, ", "))
	}
	return nil
}

type parser struct {
	x    *exprCtx
	src  string
	toks []token
	i    int
}

func (x *exprCtx) parser(what, src string) (*parser, error) {
	x.what = what
	toks, err := tokenize(src)
	if err != nil {
		return nil, x.invalid(err.Error())
	}
	return &parser{x: x, src: src, toks: toks}, nil
}

func (x *exprCtx) invalid(msg string) error {
	return apiError("ValidationException", "Invalid %s: %s", x.what, msg)
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) syntax(t token) error {
	return p.x.invalid(fmt.Sprintf("Syntax error; token: %q, near: %q", t.text, near(p.src, min(t.pos, len(p.src)))))
}

func (p *parser) expect(k tokKind) (token, error) {
	t := p.next()
	if t.kind != k {
		return t, p.syntax(t)
	}
	return t, nil
}

func (p *parser) keyword(words ...string) bool {
	t := p.peek()
	if t.kind != tIdent {
		return false
	}
	for _, w := range words {
		if strings.EqualFold(t.text, w) {
			return true
		}
	}
	return false
}

// ---- document paths ----

type pathElem struct {
	name  string
	index int // -1 for a name
}

type docPath []pathElem

func (d docPath) String() string {
	var b strings.Builder
	for i, e := range d {
		if e.index >= 0 {
			fmt.Fprintf(&b, "[%d]", e.index)
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(e.name)
	}
	return b.String()
}

func (p *parser) pathName() (string, error) {
	t := p.next()
	switch t.kind {
	case tName:
		v, ok := p.x.names[t.text]
		if !ok {
			return "", p.x.invalid("An expression attribute name used in the document path is not defined; attribute name: " + t.text)
		}
		p.x.usedNames[t.text] = true
		return v, nil
	case tIdent:
		if reservedWords[strings.ToUpper(t.text)] {
			return "", p.x.invalid("Attribute name is a reserved keyword; reserved keyword: " + t.text)
		}
		return t.text, nil
	}
	return "", p.syntax(t)
}

func (p *parser) path() (docPath, error) {
	first, err := p.pathName()
	if err != nil {
		return nil, err
	}
	d := docPath{{name: first, index: -1}}
	for {
		switch p.peek().kind {
		case tDot:
			p.next()
			n, err := p.pathName()
			if err != nil {
				return nil, err
			}
			d = append(d, pathElem{name: n, index: -1})
		case tLBracket:
			p.next()
			t, err := p.expect(tNumber)
			if err != nil {
				return nil, err
			}
			n, _ := strconv.Atoi(t.text)
			if _, err := p.expect(tRBracket); err != nil {
				return nil, err
			}
			d = append(d, pathElem{index: n})
		default:
			return d, nil
		}
	}
}

func (p *parser) value() (av, error) {
	t := p.next()
	if t.kind != tValue {
		return nil, p.syntax(t)
	}
	v, ok := p.x.values[t.text]
	if !ok {
		return nil, p.x.invalid("An expression attribute value used in expression is not defined; attribute value: " + t.text)
	}
	p.x.usedValues[t.text] = true
	return v, nil
}

// ---- operands ----

// operand yields a value from an item; ok false means the attribute does
// not exist.
type operand interface {
	eval(item map[string]av) (v av, ok bool, err error)
}

type pathOp struct{ p docPath }
type valueOp struct{ v av }
type sizeOp struct{ p docPath }
type ifNotExistsOp struct {
	p   docPath
	def operand
}
type listAppendOp struct{ a, b operand }
type arithOp struct {
	minus bool
	l, r  operand
}

func (o pathOp) eval(item map[string]av) (av, bool, error) {
	v, ok := getPath(item, o.p)
	return v, ok, nil
}

func (o valueOp) eval(map[string]av) (av, bool, error) { return o.v, true, nil }

func (o sizeOp) eval(item map[string]av) (av, bool, error) {
	v, ok := getPath(item, o.p)
	if !ok {
		return nil, false, nil
	}
	var n int
	switch t := v.(type) {
	case *types.AttributeValueMemberS:
		n = utf8.RuneCountInString(t.Value)
	case *types.AttributeValueMemberB:
		n = len(t.Value)
	case *types.AttributeValueMemberL:
		n = len(t.Value)
	case *types.AttributeValueMemberM:
		n = len(t.Value)
	case *types.AttributeValueMemberSS:
		n = len(t.Value)
	case *types.AttributeValueMemberNS:
		n = len(t.Value)
	case *types.AttributeValueMemberBS:
		n = len(t.Value)
	default:
		return nil, false, apiError("ValidationException", "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: size, operand type: %s", avType(v))
	}
	return &types.AttributeValueMemberN{Value: strconv.Itoa(n)}, true, nil
}

func (o ifNotExistsOp) eval(item map[string]av) (av, bool, error) {
	if v, ok := getPath(item, o.p); ok {
		return v, true, nil
	}
	return o.def.eval(item)
}

func (o listAppendOp) eval(item map[string]av) (av, bool, error) {
	a, aok, err := o.a.eval(item)
	if err != nil {
		return nil, false, err
	}
	b, bok, err := o.b.eval(item)
	if err != nil {
		return nil, false, err
	}
	la, ok1 := a.(*types.AttributeValueMemberL)
	lb, ok2 := b.(*types.AttributeValueMemberL)
	if !aok || !bok {
		return nil, false, apiError("ValidationException", "The provided expression refers to an attribute that does not exist in the item")
	}
	if !ok1 || !ok2 {
		return nil, false, apiError("ValidationException", "An operand in the update expression has an incorrect data type")
	}
	return &types.AttributeValueMemberL{Value: append(slices.Clone(la.Value), lb.Value...)}, true, nil
}

func (o arithOp) eval(item map[string]av) (av, bool, error) {
	l, lok, err := o.l.eval(item)
	if err != nil {
		return nil, false, err
	}
	r, rok, err := o.r.eval(item)
	if err != nil {
		return nil, false, err
	}
	if !lok || !rok {
		return nil, false, apiError("ValidationException", "The provided expression refers to an attribute that does not exist in the item")
	}
	ln, ok1 := l.(*types.AttributeValueMemberN)
	rn, ok2 := r.(*types.AttributeValueMemberN)
	if !ok1 || !ok2 {
		return nil, false, apiError("ValidationException", "An operand in the update expression has an incorrect data type")
	}
	a, err := parseNum(ln.Value)
	if err != nil {
		return nil, false, err
	}
	b, err := parseNum(rn.Value)
	if err != nil {
		return nil, false, err
	}
	if o.minus {
		a.Sub(a, b)
	} else {
		a.Add(a, b)
	}
	return &types.AttributeValueMemberN{Value: formatNum(a)}, true, nil
}

// ---- numbers ----

func parseNum(s string) (*big.Rat, error) {
	r, ok := new(big.Rat).SetString(strings.TrimSpace(s))
	if !ok {
		return nil, apiError("ValidationException", "A value provided cannot be converted into a number")
	}
	return r, nil
}

// formatNum renders a number the way DynamoDB returns it: no trailing
// zeros, no exponent.
func formatNum(r *big.Rat) string {
	if r.IsInt() {
		return r.Num().String()
	}
	s := r.FloatString(38)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// canonicalNum normalises a number string (1.50 and 1.5 are one number).
func canonicalNum(s string) (string, error) {
	r, err := parseNum(s)
	if err != nil {
		return "", err
	}
	return formatNum(r), nil
}

// ---- conditions ----

type cond interface {
	test(item map[string]av) (bool, error)
}

type cmpCond struct {
	op   tokKind
	l, r operand
}
type betweenCond struct{ v, lo, hi operand }
type inCond struct {
	v    operand
	list []operand
}
type fnCond struct {
	name string
	p    docPath
	arg  operand
}
type andCond struct{ l, r cond }
type orCond struct{ l, r cond }
type notCond struct{ c cond }

func (c cmpCond) test(item map[string]av) (bool, error) {
	l, lok, err := c.l.eval(item)
	if err != nil {
		return false, err
	}
	r, rok, err := c.r.eval(item)
	if err != nil {
		return false, err
	}
	if !lok || !rok {
		// A missing attribute equals nothing and differs from everything.
		return c.op == tNe, nil
	}
	switch c.op {
	case tEq:
		return avEqual(l, r), nil
	case tNe:
		return !avEqual(l, r), nil
	}
	n, ok := avCompare(l, r)
	if !ok {
		return false, nil
	}
	switch c.op {
	case tLt:
		return n < 0, nil
	case tLe:
		return n <= 0, nil
	case tGt:
		return n > 0, nil
	default:
		return n >= 0, nil
	}
}

func (c betweenCond) test(item map[string]av) (bool, error) {
	v, ok, err := c.v.eval(item)
	if err != nil || !ok {
		return false, err
	}
	lo, _, err := c.lo.eval(item)
	if err != nil {
		return false, err
	}
	hi, _, err := c.hi.eval(item)
	if err != nil {
		return false, err
	}
	if n, ok := avCompare(lo, hi); ok && n > 0 {
		return false, apiError("ValidationException", "Invalid %s: The BETWEEN operator requires upper bound to be greater than or equal to lower bound", "ConditionExpression")
	}
	a, ok1 := avCompare(v, lo)
	b, ok2 := avCompare(v, hi)
	return ok1 && ok2 && a >= 0 && b <= 0, nil
}

func (c inCond) test(item map[string]av) (bool, error) {
	v, ok, err := c.v.eval(item)
	if err != nil || !ok {
		return false, err
	}
	for _, o := range c.list {
		w, ok, err := o.eval(item)
		if err != nil {
			return false, err
		}
		if ok && avEqual(v, w) {
			return true, nil
		}
	}
	return false, nil
}

func (c fnCond) test(item map[string]av) (bool, error) {
	v, ok := getPath(item, c.p)
	switch c.name {
	case "attribute_exists":
		return ok, nil
	case "attribute_not_exists":
		return !ok, nil
	}
	if !ok {
		return false, nil
	}
	arg, aok, err := c.arg.eval(item)
	if err != nil || !aok {
		return false, err
	}
	switch c.name {
	case "attribute_type":
		t, isS := arg.(*types.AttributeValueMemberS)
		if !isS || !slices.Contains([]string{"S", "SS", "N", "NS", "B", "BS", "BOOL", "NULL", "L", "M"}, t.Value) {
			return false, apiError("ValidationException", "Invalid ConditionExpression: Invalid attribute type name found; type: %v", arg)
		}
		return avType(v) == t.Value, nil
	case "begins_with":
		switch s := v.(type) {
		case *types.AttributeValueMemberS:
			p, ok := arg.(*types.AttributeValueMemberS)
			return ok && strings.HasPrefix(s.Value, p.Value), nil
		case *types.AttributeValueMemberB:
			p, ok := arg.(*types.AttributeValueMemberB)
			return ok && bytes.HasPrefix(s.Value, p.Value), nil
		}
		return false, nil
	case "contains":
		switch s := v.(type) {
		case *types.AttributeValueMemberS:
			p, ok := arg.(*types.AttributeValueMemberS)
			return ok && strings.Contains(s.Value, p.Value), nil
		case *types.AttributeValueMemberB:
			p, ok := arg.(*types.AttributeValueMemberB)
			return ok && bytes.Contains(s.Value, p.Value), nil
		case *types.AttributeValueMemberL:
			for _, e := range s.Value {
				if avEqual(e, arg) {
					return true, nil
				}
			}
		case *types.AttributeValueMemberSS:
			p, ok := arg.(*types.AttributeValueMemberS)
			return ok && slices.Contains(s.Value, p.Value), nil
		case *types.AttributeValueMemberNS:
			if p, ok := arg.(*types.AttributeValueMemberN); ok {
				for _, e := range s.Value {
					if avEqual(&types.AttributeValueMemberN{Value: e}, p) {
						return true, nil
					}
				}
			}
		case *types.AttributeValueMemberBS:
			if p, ok := arg.(*types.AttributeValueMemberB); ok {
				for _, e := range s.Value {
					if bytes.Equal(e, p.Value) {
						return true, nil
					}
				}
			}
		}
		return false, nil
	}
	return false, fmt.Errorf("unknown function %s", c.name)
}

func (c andCond) test(item map[string]av) (bool, error) {
	l, err := c.l.test(item)
	if err != nil || !l {
		return false, err
	}
	return c.r.test(item)
}

func (c orCond) test(item map[string]av) (bool, error) {
	l, err := c.l.test(item)
	if err != nil || l {
		return l, err
	}
	return c.r.test(item)
}

func (c notCond) test(item map[string]av) (bool, error) {
	v, err := c.c.test(item)
	return !v, err
}

// parseCondition parses a whole condition expression.
func (x *exprCtx) parseCondition(what, src string) (cond, error) {
	if strings.TrimSpace(src) == "" {
		return nil, apiError("ValidationException", "Invalid %s: The expression can not be empty;", what)
	}
	p, err := x.parser(what, src)
	if err != nil {
		return nil, err
	}
	c, err := p.or()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, p.syntax(t)
	}
	return c, nil
}

func (p *parser) or() (cond, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.keyword("OR") {
		p.next()
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = orCond{l, r}
	}
	return l, nil
}

func (p *parser) and() (cond, error) {
	l, err := p.not()
	if err != nil {
		return nil, err
	}
	for p.keyword("AND") {
		p.next()
		r, err := p.not()
		if err != nil {
			return nil, err
		}
		l = andCond{l, r}
	}
	return l, nil
}

func (p *parser) not() (cond, error) {
	if p.keyword("NOT") {
		p.next()
		c, err := p.not()
		if err != nil {
			return nil, err
		}
		return notCond{c}, nil
	}
	return p.primary()
}

var condFuncs = []string{"attribute_exists", "attribute_not_exists", "attribute_type", "begins_with", "contains"}

func (p *parser) primary() (cond, error) {
	t := p.peek()
	if t.kind == tLParen {
		p.next()
		c, err := p.or()
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tRParen); err != nil {
			return nil, err
		}
		return c, nil
	}
	if t.kind == tIdent && p.toks[p.i+1].kind == tLParen && slices.Contains(condFuncs, t.text) {
		p.next()
		p.next()
		path, err := p.path()
		if err != nil {
			return nil, err
		}
		fc := fnCond{name: t.text, p: path}
		if t.text != "attribute_exists" && t.text != "attribute_not_exists" {
			if _, err := p.expect(tComma); err != nil {
				return nil, err
			}
			if fc.arg, err = p.operand(); err != nil {
				return nil, err
			}
		}
		if _, err := p.expect(tRParen); err != nil {
			return nil, err
		}
		return fc, nil
	}
	l, err := p.operand()
	if err != nil {
		return nil, err
	}
	switch op := p.peek(); {
	case op.kind >= tEq && op.kind <= tGe:
		p.next()
		r, err := p.operand()
		if err != nil {
			return nil, err
		}
		return cmpCond{op: op.kind, l: l, r: r}, nil
	case p.keyword("BETWEEN"):
		p.next()
		lo, err := p.operand()
		if err != nil {
			return nil, err
		}
		if !p.keyword("AND") {
			return nil, p.syntax(p.peek())
		}
		p.next()
		hi, err := p.operand()
		if err != nil {
			return nil, err
		}
		return betweenCond{v: l, lo: lo, hi: hi}, nil
	case p.keyword("IN"):
		p.next()
		if _, err := p.expect(tLParen); err != nil {
			return nil, err
		}
		var list []operand
		for {
			o, err := p.operand()
			if err != nil {
				return nil, err
			}
			list = append(list, o)
			if p.peek().kind != tComma {
				break
			}
			p.next()
		}
		if _, err := p.expect(tRParen); err != nil {
			return nil, err
		}
		if len(list) > 100 {
			return nil, p.x.invalid("The IN operator is provided with too many operands; number of operands: " + strconv.Itoa(len(list)))
		}
		return inCond{v: l, list: list}, nil
	default:
		return nil, p.syntax(op)
	}
}

// operand parses a condition operand: a path, a value or size(path).
func (p *parser) operand() (operand, error) {
	t := p.peek()
	switch {
	case t.kind == tValue:
		v, err := p.value()
		return valueOp{v}, err
	case t.kind == tIdent && t.text == "size" && p.toks[p.i+1].kind == tLParen:
		p.next()
		p.next()
		path, err := p.path()
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tRParen); err != nil {
			return nil, err
		}
		return sizeOp{path}, nil
	case t.kind == tIdent && p.toks[p.i+1].kind == tLParen:
		return nil, p.x.invalid("Invalid function name; function: " + t.text)
	case t.kind == tIdent || t.kind == tName:
		path, err := p.path()
		return pathOp{path}, err
	}
	return nil, p.syntax(t)
}

// ---- update expressions ----

type setAction struct {
	p docPath
	v operand
}

type addAction struct {
	p docPath
	v av
}

type update struct {
	set    []setAction
	remove []docPath
	add    []addAction
	del    []addAction
}

func (u update) paths() []docPath {
	var out []docPath
	for _, a := range u.set {
		out = append(out, a.p)
	}
	out = append(out, u.remove...)
	for _, a := range u.add {
		out = append(out, a.p)
	}
	for _, a := range u.del {
		out = append(out, a.p)
	}
	return out
}

func (x *exprCtx) parseUpdate(src string) (update, error) {
	var u update
	if strings.TrimSpace(src) == "" {
		return u, apiError("ValidationException", "Invalid UpdateExpression: The expression can not be empty;")
	}
	p, err := x.parser("UpdateExpression", src)
	if err != nil {
		return u, err
	}
	seen := map[string]bool{}
	for p.peek().kind != tEOF {
		t := p.next()
		if t.kind != tIdent {
			return u, p.syntax(t)
		}
		clause := strings.ToUpper(t.text)
		if seen[clause] {
			return u, p.x.invalid(fmt.Sprintf("The %q section can only be used once in an update expression;", clause))
		}
		seen[clause] = true
		for {
			path, err := p.path()
			if err != nil {
				return u, err
			}
			switch clause {
			case "SET":
				if _, err := p.expect(tEq); err != nil {
					return u, err
				}
				v, err := p.setValue()
				if err != nil {
					return u, err
				}
				u.set = append(u.set, setAction{path, v})
			case "REMOVE":
				u.remove = append(u.remove, path)
			case "ADD", "DELETE":
				v, err := p.value()
				if err != nil {
					return u, err
				}
				if clause == "ADD" {
					u.add = append(u.add, addAction{path, v})
				} else {
					u.del = append(u.del, addAction{path, v})
				}
			default:
				return u, p.syntax(t)
			}
			if p.peek().kind != tComma {
				break
			}
			p.next()
		}
	}
	ps := u.paths()
	for i := range ps {
		for j := i + 1; j < len(ps); j++ {
			if overlaps(ps[i], ps[j]) {
				return u, p.x.invalid(fmt.Sprintf("Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [%s], path two: [%s]", ps[i], ps[j]))
			}
		}
	}
	return u, nil
}

func overlaps(a, b docPath) bool {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func (p *parser) setValue() (operand, error) {
	l, err := p.term()
	if err != nil {
		return nil, err
	}
	switch p.peek().kind {
	case tPlus, tMinus:
		minus := p.next().kind == tMinus
		r, err := p.term()
		if err != nil {
			return nil, err
		}
		return arithOp{minus: minus, l: l, r: r}, nil
	}
	return l, nil
}

func (p *parser) term() (operand, error) {
	t := p.peek()
	if t.kind == tIdent && p.toks[p.i+1].kind == tLParen {
		p.next()
		p.next()
		var o operand
		switch t.text {
		case "if_not_exists":
			path, err := p.path()
			if err != nil {
				return nil, err
			}
			if _, err := p.expect(tComma); err != nil {
				return nil, err
			}
			def, err := p.term()
			if err != nil {
				return nil, err
			}
			o = ifNotExistsOp{p: path, def: def}
		case "list_append":
			a, err := p.term()
			if err != nil {
				return nil, err
			}
			if _, err := p.expect(tComma); err != nil {
				return nil, err
			}
			b, err := p.term()
			if err != nil {
				return nil, err
			}
			o = listAppendOp{a, b}
		default:
			return nil, p.x.invalid("Invalid function name; function: " + t.text)
		}
		if _, err := p.expect(tRParen); err != nil {
			return nil, err
		}
		return o, nil
	}
	if t.kind == tValue {
		v, err := p.value()
		return valueOp{v}, err
	}
	path, err := p.path()
	return pathOp{path}, err
}

// apply runs the update on a copy of item and returns the new item. Every
// SET value is computed from the item as it was before the update.
func (u update) apply(item map[string]av) (map[string]av, error) {
	out := cloneItem(item)
	vals := make([]av, len(u.set))
	for i, a := range u.set {
		v, ok, err := a.v.eval(item)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, apiError("ValidationException", "The provided expression refers to an attribute that does not exist in the item")
		}
		vals[i] = v
	}
	for i, a := range u.set {
		if err := setPath(out, a.p, vals[i]); err != nil {
			return nil, err
		}
	}
	for _, p := range u.remove {
		removePath(out, p)
	}
	for _, a := range u.add {
		cur, ok := getPath(out, a.p)
		nv, err := addValue(cur, ok, a.v)
		if err != nil {
			return nil, err
		}
		if err := setPath(out, a.p, nv); err != nil {
			return nil, err
		}
	}
	for _, a := range u.del {
		cur, ok := getPath(out, a.p)
		if !ok {
			continue
		}
		nv, empty, err := deleteFromSet(cur, a.v)
		if err != nil {
			return nil, err
		}
		if empty {
			removePath(out, a.p)
		} else if err := setPath(out, a.p, nv); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func addValue(cur av, exists bool, v av) (av, error) {
	bad := apiError("ValidationException", "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: %s", avType(v))
	switch add := v.(type) {
	case *types.AttributeValueMemberN:
		if !exists {
			return add, nil
		}
		n, ok := cur.(*types.AttributeValueMemberN)
		if !ok {
			return nil, apiError("ValidationException", "An operand in the update expression has an incorrect data type")
		}
		a, err := parseNum(n.Value)
		if err != nil {
			return nil, err
		}
		b, err := parseNum(add.Value)
		if err != nil {
			return nil, err
		}
		return &types.AttributeValueMemberN{Value: formatNum(a.Add(a, b))}, nil
	case *types.AttributeValueMemberSS:
		if !exists {
			return add, nil
		}
		s, ok := cur.(*types.AttributeValueMemberSS)
		if !ok {
			return nil, apiError("ValidationException", "An operand in the update expression has an incorrect data type")
		}
		out := slices.Clone(s.Value)
		for _, e := range add.Value {
			if !slices.Contains(out, e) {
				out = append(out, e)
			}
		}
		return &types.AttributeValueMemberSS{Value: out}, nil
	case *types.AttributeValueMemberNS:
		if !exists {
			return add, nil
		}
		s, ok := cur.(*types.AttributeValueMemberNS)
		if !ok {
			return nil, apiError("ValidationException", "An operand in the update expression has an incorrect data type")
		}
		out := slices.Clone(s.Value)
		for _, e := range add.Value {
			if !containsNum(out, e) {
				out = append(out, e)
			}
		}
		return &types.AttributeValueMemberNS{Value: out}, nil
	}
	return nil, bad
}

func containsNum(set []string, n string) bool {
	for _, e := range set {
		if avEqual(&types.AttributeValueMemberN{Value: e}, &types.AttributeValueMemberN{Value: n}) {
			return true
		}
	}
	return false
}

func deleteFromSet(cur, v av) (av, bool, error) {
	switch del := v.(type) {
	case *types.AttributeValueMemberSS:
		s, ok := cur.(*types.AttributeValueMemberSS)
		if !ok {
			return nil, false, apiError("ValidationException", "An operand in the update expression has an incorrect data type")
		}
		out := slices.DeleteFunc(slices.Clone(s.Value), func(e string) bool { return slices.Contains(del.Value, e) })
		return &types.AttributeValueMemberSS{Value: out}, len(out) == 0, nil
	case *types.AttributeValueMemberNS:
		s, ok := cur.(*types.AttributeValueMemberNS)
		if !ok {
			return nil, false, apiError("ValidationException", "An operand in the update expression has an incorrect data type")
		}
		out := slices.DeleteFunc(slices.Clone(s.Value), func(e string) bool { return containsNum(del.Value, e) })
		return &types.AttributeValueMemberNS{Value: out}, len(out) == 0, nil
	}
	return nil, false, apiError("ValidationException", "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: DELETE, operand type: %s", avType(v))
}

// ---- projection ----

func (x *exprCtx) parseProjection(src string) ([]docPath, error) {
	p, err := x.parser("ProjectionExpression", src)
	if err != nil {
		return nil, err
	}
	var out []docPath
	for {
		d, err := p.path()
		if err != nil {
			return nil, err
		}
		out = append(out, d)
		t := p.next()
		if t.kind == tEOF {
			return out, nil
		}
		if t.kind != tComma {
			return nil, p.syntax(t)
		}
	}
}

func project(item map[string]av, paths []docPath) map[string]av {
	if paths == nil {
		return item
	}
	out := map[string]av{}
	for _, p := range paths {
		v, ok := getPath(item, p)
		if !ok {
			continue
		}
		// Projections keep the structure down to the projected value;
		// list indexes collapse to the element, as DynamoDB returns them.
		_ = setPathCreate(out, p, v)
	}
	return out
}

// ---- paths on items ----

func getPath(item map[string]av, p docPath) (av, bool) {
	var cur av = &types.AttributeValueMemberM{Value: item}
	for _, e := range p {
		switch c := cur.(type) {
		case *types.AttributeValueMemberM:
			if e.index >= 0 {
				return nil, false
			}
			v, ok := c.Value[e.name]
			if !ok {
				return nil, false
			}
			cur = v
		case *types.AttributeValueMemberL:
			if e.index < 0 || e.index >= len(c.Value) {
				return nil, false
			}
			cur = c.Value[e.index]
		default:
			return nil, false
		}
	}
	return cur, true
}

var errBadPath = apiError("ValidationException", "The document path provided in the update expression is invalid for update")

// setPath sets p to v; the parent of p must exist.
func setPath(item map[string]av, p docPath, v av) error {
	if len(p) == 1 {
		item[p[0].name] = v
		return nil
	}
	parent, ok := getPath(item, p[:len(p)-1])
	if !ok {
		return errBadPath
	}
	last := p[len(p)-1]
	switch c := parent.(type) {
	case *types.AttributeValueMemberM:
		if last.index >= 0 {
			return errBadPath
		}
		c.Value[last.name] = v
	case *types.AttributeValueMemberL:
		if last.index < 0 {
			return errBadPath
		}
		if last.index >= len(c.Value) {
			c.Value = append(c.Value, v)
		} else {
			c.Value[last.index] = v
		}
	default:
		return errBadPath
	}
	return nil
}

// setPathCreate sets p to v, creating maps on the way (projections).
func setPathCreate(item map[string]av, p docPath, v av) error {
	cur := item
	for i, e := range p {
		if e.index >= 0 {
			return nil
		}
		if i == len(p)-1 || p[i+1].index >= 0 {
			cur[e.name] = v
			return nil
		}
		next, ok := cur[e.name].(*types.AttributeValueMemberM)
		if !ok {
			next = &types.AttributeValueMemberM{Value: map[string]av{}}
			cur[e.name] = next
		}
		cur = next.Value
	}
	return nil
}

func removePath(item map[string]av, p docPath) {
	if len(p) == 1 {
		delete(item, p[0].name)
		return
	}
	parent, ok := getPath(item, p[:len(p)-1])
	if !ok {
		return
	}
	last := p[len(p)-1]
	switch c := parent.(type) {
	case *types.AttributeValueMemberM:
		delete(c.Value, last.name)
	case *types.AttributeValueMemberL:
		if last.index >= 0 && last.index < len(c.Value) {
			c.Value = slices.Delete(c.Value, last.index, last.index+1)
		}
	}
}

// ---- values ----

func avType(v av) string {
	switch v.(type) {
	case *types.AttributeValueMemberS:
		return "S"
	case *types.AttributeValueMemberN:
		return "N"
	case *types.AttributeValueMemberB:
		return "B"
	case *types.AttributeValueMemberBOOL:
		return "BOOL"
	case *types.AttributeValueMemberNULL:
		return "NULL"
	case *types.AttributeValueMemberM:
		return "M"
	case *types.AttributeValueMemberL:
		return "L"
	case *types.AttributeValueMemberSS:
		return "SS"
	case *types.AttributeValueMemberNS:
		return "NS"
	case *types.AttributeValueMemberBS:
		return "BS"
	}
	return "?"
}

// avCompare orders two scalars of the same type (S by bytes, N by value,
// B by bytes); ok is false for other types or mixed types.
func avCompare(a, b av) (int, bool) {
	switch x := a.(type) {
	case *types.AttributeValueMemberS:
		y, ok := b.(*types.AttributeValueMemberS)
		if !ok {
			return 0, false
		}
		return strings.Compare(x.Value, y.Value), true
	case *types.AttributeValueMemberN:
		y, ok := b.(*types.AttributeValueMemberN)
		if !ok {
			return 0, false
		}
		p, err1 := parseNum(x.Value)
		q, err2 := parseNum(y.Value)
		if err1 != nil || err2 != nil {
			return 0, false
		}
		return p.Cmp(q), true
	case *types.AttributeValueMemberB:
		y, ok := b.(*types.AttributeValueMemberB)
		if !ok {
			return 0, false
		}
		return bytes.Compare(x.Value, y.Value), true
	}
	return 0, false
}

func avEqual(a, b av) bool {
	if n, ok := avCompare(a, b); ok {
		return n == 0
	}
	if avType(a) != avType(b) {
		return false
	}
	switch x := a.(type) {
	case *types.AttributeValueMemberBOOL:
		return x.Value == b.(*types.AttributeValueMemberBOOL).Value
	case *types.AttributeValueMemberNULL:
		return true
	case *types.AttributeValueMemberM:
		y := b.(*types.AttributeValueMemberM)
		if len(x.Value) != len(y.Value) {
			return false
		}
		for k, v := range x.Value {
			w, ok := y.Value[k]
			if !ok || !avEqual(v, w) {
				return false
			}
		}
		return true
	case *types.AttributeValueMemberL:
		y := b.(*types.AttributeValueMemberL)
		if len(x.Value) != len(y.Value) {
			return false
		}
		for i := range x.Value {
			if !avEqual(x.Value[i], y.Value[i]) {
				return false
			}
		}
		return true
	case *types.AttributeValueMemberSS:
		y := b.(*types.AttributeValueMemberSS)
		return sameSet(x.Value, y.Value, func(p, q string) bool { return p == q })
	case *types.AttributeValueMemberNS:
		y := b.(*types.AttributeValueMemberNS)
		return sameSet(x.Value, y.Value, func(p, q string) bool {
			return avEqual(&types.AttributeValueMemberN{Value: p}, &types.AttributeValueMemberN{Value: q})
		})
	case *types.AttributeValueMemberBS:
		y := b.(*types.AttributeValueMemberBS)
		return sameSet(x.Value, y.Value, bytes.Equal)
	}
	return false
}

func sameSet[T any](a, b []T, eq func(T, T) bool) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.ContainsFunc(b, func(y T) bool { return eq(x, y) }) {
			return false
		}
	}
	return true
}

func cloneAV(v av) av {
	switch x := v.(type) {
	case *types.AttributeValueMemberM:
		return &types.AttributeValueMemberM{Value: cloneItem(x.Value)}
	case *types.AttributeValueMemberL:
		out := make([]av, len(x.Value))
		for i, e := range x.Value {
			out[i] = cloneAV(e)
		}
		return &types.AttributeValueMemberL{Value: out}
	case *types.AttributeValueMemberSS:
		return &types.AttributeValueMemberSS{Value: slices.Clone(x.Value)}
	case *types.AttributeValueMemberNS:
		return &types.AttributeValueMemberNS{Value: slices.Clone(x.Value)}
	case *types.AttributeValueMemberBS:
		out := make([][]byte, len(x.Value))
		for i, e := range x.Value {
			out[i] = bytes.Clone(e)
		}
		return &types.AttributeValueMemberBS{Value: out}
	case *types.AttributeValueMemberB:
		return &types.AttributeValueMemberB{Value: bytes.Clone(x.Value)}
	case *types.AttributeValueMemberS:
		return &types.AttributeValueMemberS{Value: x.Value}
	case *types.AttributeValueMemberN:
		return &types.AttributeValueMemberN{Value: x.Value}
	case *types.AttributeValueMemberBOOL:
		return &types.AttributeValueMemberBOOL{Value: x.Value}
	case *types.AttributeValueMemberNULL:
		return &types.AttributeValueMemberNULL{Value: x.Value}
	}
	return v
}

func cloneItem(item map[string]av) map[string]av {
	if item == nil {
		return nil
	}
	out := make(map[string]av, len(item))
	for k, v := range item {
		out[k] = cloneAV(v)
	}
	return out
}

// avSize approximates DynamoDB's item-size accounting
// (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html).
func avSize(v av) int {
	switch x := v.(type) {
	case *types.AttributeValueMemberS:
		return len(x.Value)
	case *types.AttributeValueMemberN:
		return (len(strings.TrimLeft(x.Value, "-0."))+1)/2 + 1
	case *types.AttributeValueMemberB:
		return len(x.Value)
	case *types.AttributeValueMemberBOOL, *types.AttributeValueMemberNULL:
		return 1
	case *types.AttributeValueMemberM:
		n := 3
		for k, e := range x.Value {
			n += len(k) + avSize(e) + 1
		}
		return n
	case *types.AttributeValueMemberL:
		n := 3
		for _, e := range x.Value {
			n += avSize(e) + 1
		}
		return n
	case *types.AttributeValueMemberSS:
		n := 0
		for _, e := range x.Value {
			n += len(e)
		}
		return n
	case *types.AttributeValueMemberNS:
		n := 0
		for _, e := range x.Value {
			n += len(e)
		}
		return n
	case *types.AttributeValueMemberBS:
		n := 0
		for _, e := range x.Value {
			n += len(e)
		}
		return n
	}
	return 0
}

func itemSize(item map[string]av) int {
	n := 0
	for k, v := range item {
		n += len(k) + avSize(v)
	}
	return n
}

// validateValue checks what DynamoDB refuses in any attribute value: empty
// sets, duplicate set members, numbers that do not parse.
func validateValue(v av) error {
	switch x := v.(type) {
	case *types.AttributeValueMemberN:
		if _, err := parseNum(x.Value); err != nil {
			return err
		}
	case *types.AttributeValueMemberSS:
		if len(x.Value) == 0 {
			return apiError("ValidationException", "One or more parameter values were invalid: An string set  may not be empty")
		}
		if len(slices.Compact(slices.Sorted(slices.Values(x.Value)))) != len(x.Value) {
			return apiError("ValidationException", "One or more parameter values were invalid: Input collection %v contains duplicates.", x.Value)
		}
	case *types.AttributeValueMemberNS:
		if len(x.Value) == 0 {
			return apiError("ValidationException", "One or more parameter values were invalid: An number set  may not be empty")
		}
		for _, e := range x.Value {
			if _, err := parseNum(e); err != nil {
				return err
			}
		}
	case *types.AttributeValueMemberBS:
		if len(x.Value) == 0 {
			return apiError("ValidationException", "One or more parameter values were invalid: An binary set  may not be empty")
		}
	case *types.AttributeValueMemberM:
		for _, e := range x.Value {
			if err := validateValue(e); err != nil {
				return err
			}
		}
	case *types.AttributeValueMemberL:
		for _, e := range x.Value {
			if err := validateValue(e); err != nil {
				return err
			}
		}
	case nil:
		return apiError("ValidationException", "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes")
	}
	return nil
}
