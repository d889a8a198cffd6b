package fakecloud

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func avS(v string) av     { return &types.AttributeValueMemberS{Value: v} }
func avN(v string) av     { return &types.AttributeValueMemberN{Value: v} }
func avB(v bool) av       { return &types.AttributeValueMemberBOOL{Value: v} }
func avL(v ...av) av      { return &types.AttributeValueMemberL{Value: v} }
func avSS(v ...string) av { return &types.AttributeValueMemberSS{Value: v} }

func ddbTestItem() map[string]av {
	return map[string]av{
		"pk":      avS("env#dev"),
		"sk":      avS("state#migration"),
		"phase":   avS("replicating"),
		"version": avN("3"),
		"ratio":   avN("1.50"),
		"ok":      avB(true),
		"tags":    avSS("a", "b"),
		"entries": avL(avS("x"), avN("2")),
		"nested":  &types.AttributeValueMemberM{Value: map[string]av{"inner": avS("deep")}},
		"status":  avS("running"),
	}
}

func TestConditionExpressions(t *testing.T) {
	names := map[string]string{"#p": "phase", "#v": "version", "#st": "status", "#n": "nested", "#missing": "nope"}
	values := map[string]av{":rep": avS("replicating"), ":val": avS("validated"), ":3": avN("3"), ":threeDotZero": avN("3.0"), ":2": avN("2"), ":10": avN("10"),
		":oneHalf": avN("1.5"), ":pre": avS("repl"), ":x": avS("x"), ":a": avS("a"), ":S": avS("S"), ":SS": avS("SS"), ":deep": avS("deep"), ":run": avS("running")}
	tests := []struct {
		expr string
		want bool
	}{
		{"#p = :rep", true},
		{"#p = :val", false},
		{"#p <> :val", true},
		{"#missing <> :val", true}, // a missing attribute differs from everything
		{"#missing = :val", false},
		{"#missing < :val", false},
		{"#v = :3", true},
		{"#v = :threeDotZero", true}, // numbers compare by value
		{"ratio = :oneHalf", true},
		{"#v > :2 AND #v < :10", true},
		{"#v >= :3 AND #v <= :3", true},
		{"#v > :3", false},
		{"#v BETWEEN :2 AND :10", true},
		{"#v between :10 AND :10", false},
		{"#v IN (:2, :3)", true},
		{"#p IN (:val)", false},
		{"attribute_exists(#p)", true},
		{"attribute_not_exists(#p)", false},
		{"attribute_not_exists(#missing)", true},
		{"attribute_exists(#n.inner)", true},
		{"#n.inner = :deep", true},
		{"attribute_exists(#n.other)", false},
		{"entries[0] = :x", true},
		{"entries[5] = :x", false},
		{"begins_with(#p, :pre)", true},
		{"begins_with(#p, :val)", false},
		{"contains(tags, :a)", true},
		{"contains(entries, :x)", true},
		{"contains(#p, :pre)", true},
		{"attribute_type(#p, :S)", true},
		{"attribute_type(tags, :SS)", true},
		{"size(entries) = :2", true},
		{"size(#p) > :10", true},
		{"NOT #p = :val", true},
		{"not (#p = :rep)", false},
		{"#p = :val OR #v = :3", true},
		{"#p = :val or #v = :2", false},
		{"#p = :rep AND (#v = :2 OR #v = :3)", true},
		{"(#p = :rep AND #v = :2) OR #v = :3", true},
		{"#p = :val AND #v = :3 OR #v = :3", true}, // AND binds tighter than OR
		{"NOT attribute_exists(#missing) AND #st = :run", true},
		{"#p=:rep", true},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			x := newExprCtx(names, values)
			c, err := x.parseCondition("ConditionExpression", tt.expr)
			require.NoError(t, err)
			got, err := c.test(ddbTestItem())
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestConditionExpressionErrors(t *testing.T) {
	tests := []struct {
		expr   string
		names  map[string]string
		values map[string]av
		want   string
	}{
		{"#p = :v", nil, map[string]av{":v": avS("x")}, "An expression attribute name used in the document path is not defined; attribute name: #p"},
		{"phase = :v", nil, nil, "An expression attribute value used in expression is not defined; attribute value: :v"},
		{"status = :v", nil, map[string]av{":v": avS("x")}, "Attribute name is a reserved keyword; reserved keyword: status"},
		{"phase = ", nil, nil, "Syntax error"},
		{"phase = :v AND", nil, map[string]av{":v": avS("x")}, "Syntax error"},
		{"(phase = :v", nil, map[string]av{":v": avS("x")}, "Syntax error"},
		{"frobnicate(phase)", nil, nil, "Invalid function name; function: frobnicate"},
		{"", nil, nil, "The expression can not be empty"},
		{"phase = :v $", nil, map[string]av{":v": avS("x")}, "Invalid character encountered"},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			x := newExprCtx(tt.names, tt.values)
			_, err := x.parseCondition("ConditionExpression", tt.expr)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.Contains(t, err.Error(), "ValidationException")
		})
	}
}

func TestUnusedPlaceholders(t *testing.T) {
	x := newExprCtx(map[string]string{"#p": "phase", "#q": "q"}, map[string]av{":v": avS("x")})
	_, err := x.parseCondition("ConditionExpression", "#p = :v")
	require.NoError(t, err)
	require.ErrorContains(t, x.checkUnused(), "Value provided in ExpressionAttributeNames unused in expressions: keys: {#q}")

	x = newExprCtx(nil, map[string]av{":v": avS("x"), ":w": avS("y")})
	_, err = x.parseCondition("ConditionExpression", "phase = :v")
	require.NoError(t, err)
	require.ErrorContains(t, x.checkUnused(), "Value provided in ExpressionAttributeValues unused in expressions: keys: {:w}")
}

func TestUpdateExpressions(t *testing.T) {
	names := map[string]string{"#v": "version", "#p": "phase", "#c": "count", "#n": "nested"}
	values := map[string]av{":one": avN("1"), ":zero": avN("0"), ":to": avS("validated"), ":l": avL(avS("y")), ":ss": avSS("c", "a"), ":dels": avSS("a"), ":half": avN("0.5")}
	tests := []struct {
		expr  string
		check func(t *testing.T, item map[string]av)
		err   string
	}{
		{expr: "SET #v = #v + :one, #p = :to", check: func(t *testing.T, it map[string]av) {
			assert.Equal(t, avN("4"), it["version"])
			assert.Equal(t, avS("validated"), it["phase"])
		}},
		{expr: "SET #v = #v - :one", check: func(t *testing.T, it map[string]av) { assert.Equal(t, avN("2"), it["version"]) }},
		{expr: "SET ratio = ratio + :half", check: func(t *testing.T, it map[string]av) { assert.Equal(t, avN("2"), it["ratio"]) }},
		{expr: "SET #c = if_not_exists(#c, :zero) + :one", check: func(t *testing.T, it map[string]av) { assert.Equal(t, avN("1"), it["count"]) }},
		{expr: "SET #v = if_not_exists(#v, :zero)", check: func(t *testing.T, it map[string]av) { assert.Equal(t, avN("3"), it["version"]) }},
		{expr: "SET entries = list_append(entries, :l)", check: func(t *testing.T, it map[string]av) {
			assert.Len(t, it["entries"].(*types.AttributeValueMemberL).Value, 3)
		}},
		{expr: "SET #n.inner = :to", check: func(t *testing.T, it map[string]av) {
			assert.Equal(t, avS("validated"), it["nested"].(*types.AttributeValueMemberM).Value["inner"])
		}},
		{expr: "REMOVE #p, entries[0]", check: func(t *testing.T, it map[string]av) {
			assert.NotContains(t, it, "phase")
			assert.Equal(t, []av{avN("2")}, it["entries"].(*types.AttributeValueMemberL).Value)
		}},
		{expr: "SET #p = :to REMOVE ok", check: func(t *testing.T, it map[string]av) {
			assert.NotContains(t, it, "ok")
			assert.Equal(t, avS("validated"), it["phase"])
		}},
		{expr: "ADD #c :one, tags :ss", check: func(t *testing.T, it map[string]av) {
			assert.Equal(t, avN("1"), it["count"])
			assert.ElementsMatch(t, []string{"a", "b", "c"}, it["tags"].(*types.AttributeValueMemberSS).Value)
		}},
		{expr: "DELETE tags :dels", check: func(t *testing.T, it map[string]av) {
			assert.Equal(t, []string{"b"}, it["tags"].(*types.AttributeValueMemberSS).Value)
		}},
		{expr: "SET #c = #c + :one", err: "The provided expression refers to an attribute that does not exist in the item"},
		{expr: "SET #p = #p + :one", err: "An operand in the update expression has an incorrect data type"},
		{expr: "SET #p = :to, #p = :to", err: "Two document paths overlap"},
		{expr: "SET #n = :to, #n.inner = :to", err: "Two document paths overlap"},
		{expr: "SET #p = :to SET #v = :one", err: `The "SET" section can only be used once`},
		{expr: "SET missing.inner = :to", err: "The document path provided in the update expression is invalid for update"},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			x := newExprCtx(names, values)
			u, err := x.parseUpdate(tt.expr)
			if err == nil {
				var out map[string]av
				out, err = u.apply(ddbTestItem())
				if err == nil {
					require.Empty(t, tt.err, "expected an error")
					tt.check(t, out)
					return
				}
			}
			require.NotEmpty(t, tt.err, "unexpected error %v", err)
			assert.Contains(t, err.Error(), tt.err)
		})
	}
}

func TestUpdateDoesNotMutateInput(t *testing.T) {
	x := newExprCtx(map[string]string{"#n": "nested"}, map[string]av{":v": avS("new")})
	u, err := x.parseUpdate("SET #n.inner = :v")
	require.NoError(t, err)
	in := ddbTestItem()
	_, err = u.apply(in)
	require.NoError(t, err)
	assert.Equal(t, avS("deep"), in["nested"].(*types.AttributeValueMemberM).Value["inner"])
}

func TestFormatNum(t *testing.T) {
	for in, want := range map[string]string{"1.50": "1.5", "3": "3", "-0.25": "-0.25", "10.0": "10", "1e3": "1000"} {
		got, err := canonicalNum(in)
		require.NoError(t, err)
		assert.Equal(t, want, got, in)
	}
	_, err := canonicalNum("abc")
	assert.Error(t, err)
}
