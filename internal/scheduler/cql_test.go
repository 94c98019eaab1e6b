package scheduler

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseExpression_Valid(t *testing.T) {
	tests := []struct {
		name, expr, canonical string
	}{
		{"equals", "attribute:ecs.instance-type == t2.small", "attribute:ecs.instance-type == t2.small"},
		{"equals word", "attribute:ecs.instance-type equals t2.small", "attribute:ecs.instance-type == t2.small"},
		{"no spaces", "attribute:ecs.instance-type==t2.small", "attribute:ecs.instance-type == t2.small"},
		{"not equals", "attribute:ecs.os-type != windows", "attribute:ecs.os-type != windows"},
		{"not_equals word", "attribute:ecs.os-type not_equals windows", "attribute:ecs.os-type != windows"},
		{"greater", "runningTasksCount > 3", "runningTasksCount > 3"},
		{"greater_than", "runningTasksCount greater_than 3", "runningTasksCount > 3"},
		{"greater equal", "agentVersion >= 1.14.0", "agentVersion >= 1.14.0"},
		{"greater_than_equal", "agentVersion greater_than_equal 1.14.0", "agentVersion >= 1.14.0"},
		{"less", "registeredAt < 2018-06-18", "registeredAt < 2018-06-18"},
		{"less_than", "registeredAt less_than 2018-06-18T22:28:28Z", "registeredAt < 2018-06-18T22:28:28Z"},
		{"less equal", "runningTasksCount <= 0", "runningTasksCount <= 0"},
		{"less_than_equal", "runningTasksCount less_than_equal 0", "runningTasksCount <= 0"},
		{"in brackets", "attribute:ecs.availability-zone in [us-east-1a, us-east-1b]", "attribute:ecs.availability-zone in [us-east-1a, us-east-1b]"},
		{"in parens", "attribute:ecs.availability-zone in (us-east-1a,us-east-1b)", "attribute:ecs.availability-zone in [us-east-1a, us-east-1b]"},
		{"not_in", "ec2InstanceId not_in ['i-abcd1234', 'i-wxyz7890']", "ec2InstanceId not_in [i-abcd1234, i-wxyz7890]"},
		{"!in", "ec2InstanceId !in [i-1]", "ec2InstanceId not_in [i-1]"},
		{"not in", "ec2InstanceId not in [i-1]", "ec2InstanceId not_in [i-1]"},
		{"matches", "attribute:ecs.instance-type =~ g2.*", "attribute:ecs.instance-type =~ g2.*"},
		{"matches word", "attribute:ecs.instance-type matches g2.*", "attribute:ecs.instance-type =~ g2.*"},
		{"not matches", "attribute:ecs.instance-type !~ t2.*", "attribute:ecs.instance-type !~ t2.*"},
		{"not_matches word", "attribute:ecs.instance-type not_matches t2.*", "attribute:ecs.instance-type !~ t2.*"},
		{"exists", "attribute:ecs.capability.task-eni exists", "attribute:ecs.capability.task-eni exists"},
		{"!exists", "attribute:gpu !exists", "attribute:gpu not_exists"},
		{"not_exists", "attribute:gpu not_exists", "attribute:gpu not_exists"},
		{"not exists", "attribute:gpu not exists", "attribute:gpu not_exists"},
		{"task group", "task:group == service:production", "task:group == service:production"},
		{"not()", "not(task:group == database)", "not(task:group == database)"},
		{"! prefix", "!(task:group == database)", "not(task:group == database)"},
		{"not predicate", "not attribute:a exists", "not(attribute:a exists)"},
		{"double not", "!!attribute:a exists", "not(not(attribute:a exists))"},
		{"and", "attribute:a == 1 and attribute:b == 2", "attribute:a == 1 and attribute:b == 2"},
		{"&&", "attribute:a == 1 && attribute:b == 2", "attribute:a == 1 and attribute:b == 2"},
		{"&& no spaces", "attribute:a==1&&attribute:b==2", "attribute:a == 1 and attribute:b == 2"},
		{"or", "attribute:a == 1 or attribute:b == 2", "attribute:a == 1 or attribute:b == 2"},
		{"||", "attribute:a == 1 || attribute:b == 2", "attribute:a == 1 or attribute:b == 2"},
		{"and binds tighter", "attribute:a exists or attribute:b exists and attribute:c exists",
			"attribute:a exists or attribute:b exists and attribute:c exists"},
		{"parens override", "(attribute:a exists or attribute:b exists) and attribute:c exists",
			"(attribute:a exists or attribute:b exists) and attribute:c exists"},
		{"redundant parens", "((attribute:a exists))", "attribute:a exists"},
		{"flattened", "attribute:a exists or (attribute:b exists or attribute:c exists)",
			"attribute:a exists or attribute:b exists or attribute:c exists"},
		{"case-insensitive keywords", "AgentConnected EQUALS TRUE AND attribute:x EXISTS", "agentConnected == TRUE and attribute:x exists"},
		{"quoted value with spaces", `attribute:team == "data eng"`, `attribute:team == "data eng"`},
		{"single-quoted escapes", `attribute:q == 'it\'s'`, `attribute:q == it's`},
		{"quoted backslash kept", `attribute:x =~ '\d+'`, `attribute:x =~ "\\d+"`},
		{"quoted keyword value", `attribute:x == "and"`, `attribute:x == and`},
		{"empty quoted value", `attribute:x == ""`, `attribute:x == ""`},
		{"quoted regex with parens", `attribute:t =~ "t2\.(micro|small)"`, `attribute:t =~ "t2\\.(micro|small)"`},
		{"value with symbols", "attribute:ecs.ami-id == ami-0a1b:@/x=y", "attribute:ecs.ami-id == ami-0a1b:@/x=y"},
		{"whitespace", "\t attribute:a\n==\tb  ", "attribute:a == b"},
		{"registeredAt offset", "registeredAt >= 2018-06-18T22:28:28+00:00", "registeredAt >= 2018-06-18T22:28:28+00:00"},
		{"registeredAt no zone", "registeredAt == 2018-06-18T22:28:28", "registeredAt == 2018-06-18T22:28:28"},
		{"agentConnected", "agentConnected == false", "agentConnected == false"},
		{"task group in", "task:group in [service:a, service:b]", "task:group in [service:a, service:b]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := ParseExpression(tt.expr)
			if err != nil {
				t.Fatalf("ParseExpression(%q): %v", tt.expr, err)
			}
			if got := e.String(); got != tt.canonical {
				t.Errorf("String() = %q, want %q", got, tt.canonical)
			}
			again, err := ParseExpression(e.String())
			if err != nil {
				t.Fatalf("canonical form does not parse: %v", err)
			}
			if again.String() != e.String() {
				t.Errorf("canonical form is not stable: %q then %q", e.String(), again.String())
			}
		})
	}
}

func TestParseExpression_Malformed(t *testing.T) {
	tests := []struct {
		name, expr string
		offset     int
		msg        string
	}{
		{"ErrEmpty", "", 0, "empty expression"},
		{"ErrBlank", "   ", 0, "empty expression"},
		{"ErrUnknownSubject", "color == red", 0, `unknown subject "color"`},
		{"ErrMissingAttributeName", "attribute: == x", 10, "missing attribute name"},
		{"ErrNoOperator", "attribute:a", 11, "expected an operator"},
		{"ErrUnknownOperator", "attribute:a ~= b", 12, `unknown operator "~="`},
		{"ErrSingleEquals", "attribute:a = b", 12, `use "=="`},
		{"ErrUnknownBangOperator", "attribute:a !foo", 12, "unknown operator"},
		{"ErrNoValue", "attribute:a ==", 14, `expected a value after "=="`},
		{"ErrValueIsDelimiter", "attribute:a == )", 15, "expected a value"},
		{"ErrUnterminatedQuote", `attribute:a == "abc`, 15, "unterminated quoted value"},
		{"ErrListWithoutBracket", "attribute:a in x", 15, `expected "[" to start the list`},
		{"ErrEmptyList", "attribute:a in []", 16, "expected a value"},
		{"ErrUnclosedList", "attribute:a in [x, y", 20, `missing "]"`},
		{"ErrListSeparator", "attribute:a in [x y]", 18, `expected "," or "]"`},
		{"ErrMismatchedListClose", "attribute:a in [x)", 17, `expected "," or "]"`},
		{"ErrTrailingToken", "attribute:a == b c", 17, `unexpected "c"`},
		{"ErrTrailingParen", "attribute:a == b)", 16, `without a matching "("`},
		{"ErrUnclosedParen", "(attribute:a == b", 17, `missing ")" to close the "(" at column 1`},
		{"ErrUnclosedParenToken", "(attribute:a == b c", 18, `expected ")"`},
		{"ErrDanglingAnd", "attribute:a == b and", 20, "unexpected end of expression"},
		{"ErrDanglingOr", "attribute:a == b ||", 19, "unexpected end of expression"},
		{"ErrDoubleAnd", "attribute:a == b and and attribute:c exists", 21, `unknown subject "and"`},
		{"ErrNotIn unary", "not_in attribute:a", 0, `unknown subject "not_in"`},
		{"ErrNotWithoutIn", "attribute:a not foo", 16, `expected "in" or "exists"`},
		{"ErrBadRegex", "attribute:a =~ 'a(b'", 15, "invalid regular expression"},
		{"ErrBackreference", `attribute:a =~ '(a)\1'`, 15, "invalid regular expression"},
		{"ErrOperatorNotForSubject", "task:group exists", 11, "not valid for subject task:group"},
		{"ErrOrderingOnEC2", "ec2InstanceId > i-1", 14, "not valid for subject ec2InstanceId"},
		{"ErrMatchesOnVersion", "agentVersion =~ 1.*", 13, "not valid for subject agentVersion"},
		{"ErrInOnRunningTasks", "runningTasksCount in [1]", 18, "not valid for subject runningTasksCount"},
		{"ErrExistsOnAgentConnected", "agentConnected exists", 15, "not valid for subject agentConnected"},
		{"ErrBadBool", "agentConnected == yes", 18, "not true or false"},
		{"ErrBadInt", "runningTasksCount > many", 20, "not an integer"},
		{"ErrBadVersion", "agentVersion >= 1.x", 16, "not a version"},
		{"ErrBadDate", "registeredAt > yesterday", 15, "not a date"},
		{"ErrBadDateInList", "attribute:a in [x, 'y", 19, "unterminated"},
		{"ErrOnlyNot", "not", 3, "unexpected end of expression"},
		{"ErrOpenParenOnly", "(", 1, "unexpected end of expression"},
		{"ErrBareOperator", "== x", 0, "expected a subject"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseExpression(tt.expr)
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("ParseExpression(%q) error = %v, want a *SyntaxError", tt.expr, err)
			}
			if se.Offset != tt.offset {
				t.Errorf("Offset = %d, want %d (%v)", se.Offset, tt.offset, err)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not mention %q", err, tt.msg)
			}
			if se.Expr != tt.expr {
				t.Errorf("Expr = %q", se.Expr)
			}
		})
	}
	t.Run("ErrTooDeep", func(t *testing.T) {
		_, err := ParseExpression(strings.Repeat("(", 200) + "attribute:a exists" + strings.Repeat(")", 200))
		if err == nil || !strings.Contains(err.Error(), "nested") {
			t.Errorf("error = %v, want nesting error", err)
		}
	})
}

func TestExpr_Match(t *testing.T) {
	reg := time.Date(2018, 6, 18, 22, 28, 28, 0, time.UTC)
	c := inst("a").
		attr("ecs.instance-type", "t2.small").
		attr("ecs.capability.task-eni", "").
		attr("size", "10").
		attr("label", "Blue").
		running(3).version("1.14.2").ec2("i-abcd1234").registered(reg).
		group("service:web", 2).obj()
	c.RunningTasksCount = 3
	disconnected := inst("b").disconnected().version("").ec2("").registered(time.Time{}).obj()
	tests := []struct {
		expr string
		want bool
		cand *Candidate
	}{
		{"attribute:ecs.instance-type == t2.small", true, nil},
		{"attribute:ecs.instance-type == T2.SMALL", false, nil},
		{"attribute:ecs.instance-type != t2.small", false, nil},
		{"attribute:ecs.instance-type != m5.large", true, nil},
		{"attribute:missing != x", false, nil},
		{"attribute:missing == x", false, nil},
		{"not(attribute:missing == x)", true, nil},
		{"attribute:missing not_in [x]", false, nil},
		{"attribute:missing !~ x", false, nil},
		{"attribute:missing > 1", false, nil},
		{"attribute:ecs.capability.task-eni exists", true, nil},
		{"attribute:ecs.capability.task-eni == ''", true, nil},
		{"attribute:missing exists", false, nil},
		{"attribute:missing !exists", true, nil},
		{"attribute:size > 9", true, nil},    // numeric, not "10" < "9"
		{"attribute:size < 9.5", false, nil}, // numeric
		{"attribute:size >= 10", true, nil},
		{"attribute:size <= 10.0", true, nil},
		{"attribute:label > Apple", true, nil}, // string order
		{"attribute:label < apple", true, nil}, // byte order: 'B' < 'a'
		{"attribute:ecs.instance-type in [m5.large, t2.small]", true, nil},
		{"attribute:ecs.instance-type in (m5.large)", false, nil},
		{"attribute:ecs.instance-type not_in [m5.large]", true, nil},
		{"attribute:ecs.instance-type =~ t2.*", true, nil},
		{"attribute:ecs.instance-type =~ t2", false, nil}, // anchored
		{"attribute:ecs.instance-type =~ 't2\\.(small|micro)'", true, nil},
		{"attribute:ecs.instance-type !~ m5.*", true, nil},
		{"agentConnected == true", true, nil},
		{"agentConnected == TRUE", true, nil},
		{"agentConnected != true", false, nil},
		{"agentConnected == false", true, &disconnected},
		{"agentConnected in [false]", true, &disconnected},
		{"agentConnected not_in [true]", true, &disconnected},
		{"agentConnected =~ f.*", true, &disconnected},
		{"agentVersion >= 1.14.0", true, nil},
		{"agentVersion > 1.2", true, nil}, // numeric components, not "1.14" < "1.2"
		{"agentVersion == 1.14.2", true, nil},
		{"agentVersion < 1.14.10", true, nil},
		{"agentVersion != 1.14.2.0", false, nil},
		{"agentVersion >= 0", false, &disconnected}, // unknown version
		{"ec2InstanceId == i-abcd1234", true, nil},
		{"ec2InstanceId in ['i-abcd1234', 'i-wxyz7890']", true, nil},
		{"ec2InstanceId =~ i-ab.*", true, nil},
		{"ec2InstanceId != i-x", false, &disconnected}, // no EC2 instance
		{"registeredAt == 2018-06-18T22:28:28Z", true, nil},
		{"registeredAt == 2018-06-18T22:28:28+00:00", true, nil},
		{"registeredAt == 2018-06-18T23:28:28+01:00", true, nil},
		{"registeredAt == 2018-06-18T22:28:28", true, nil},
		{"registeredAt > 2018-06-18", true, nil},
		{"registeredAt < 2018-06-19", true, nil},
		{"registeredAt <= 2018-06-18T22:28:27Z", false, nil},
		{"registeredAt > 2000-01-01", false, &disconnected},
		{"runningTasksCount == 3", true, nil},
		{"runningTasksCount > 2", true, nil},
		{"runningTasksCount < 3", false, nil},
		{"runningTasksCount <= 0", true, &disconnected},
		{"task:group == service:web", true, nil},
		{"task:group == service:db", false, nil},
		{"task:group != service:db", true, nil},
		{"task:group != service:web", false, nil},
		{"task:group in [service:db, service:web]", true, nil},
		{"task:group not_in [service:db, service:web]", false, nil},
		{"not(task:group == service:web)", false, nil},
		// Logic and precedence.
		{"attribute:missing exists or attribute:size exists and attribute:label exists", true, nil},
		{"(attribute:missing exists or attribute:size exists) and attribute:missing exists", false, nil},
		{"attribute:missing exists or attribute:size exists and attribute:missing exists", false, nil},
		{"attribute:size exists or attribute:missing exists and attribute:missing exists", true, nil},
		{"not attribute:missing exists and attribute:size exists", true, nil},
		{"not (attribute:missing exists or attribute:size exists)", false, nil},
		{"!attribute:size exists || agentConnected == true", true, nil},
		{"attribute:size exists && !(runningTasksCount > 5)", true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			e, err := ParseExpression(tt.expr)
			if err != nil {
				t.Fatal(err)
			}
			cand := &c
			if tt.cand != nil {
				cand = tt.cand
			}
			if got := e.Match(cand); got != tt.want {
				t.Errorf("Match = %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("zero Expr matches all", func(t *testing.T) {
		var e Expr
		if !e.IsZero() || !e.Match(&c) || e.String() != "" {
			t.Error("zero Expr")
		}
	})
}

func FuzzParseExpression(f *testing.F) {
	for _, s := range []string{
		"attribute:ecs.instance-type == t2.small",
		"attribute:ecs.availability-zone in [us-east-1a, us-east-1b]",
		"not(task:group == database) and agentConnected == true",
		"(attribute:a exists || attribute:b !exists) && runningTasksCount <= 3",
		`attribute:x =~ "t2\\.(micro|small)" or ec2InstanceId not in ('i-1', "i-2")`,
		"registeredAt >= 2018-06-18T22:28:28+00:00 and agentVersion > 1.2",
		"!!attribute:a == 'it\\'s'",
		"attribute:a==b&&attribute:c!=d||task:group!in[x]",
		"",
		"((((",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := ParseExpression(s)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error %v is not a *SyntaxError", err)
			}
			if se.Offset < 0 || se.Offset > len(s) {
				t.Fatalf("offset %d outside the expression (len %d)", se.Offset, len(s))
			}
			return
		}
		canon := e.String()
		again, err := ParseExpression(canon)
		if err != nil {
			t.Fatalf("canonical form %q of %q does not parse: %v", canon, s, err)
		}
		if again.String() != canon {
			t.Fatalf("canonical form unstable: %q -> %q", canon, again.String())
		}
		c := inst("a").group("x", 1).obj()
		if e.Match(&c) != again.Match(&c) {
			t.Fatalf("%q and its canonical form %q disagree", s, canon)
		}
	})
}

// TestExpr_ConcurrentUse checks that one parsed Expr can be evaluated from
// many goroutines (ListContainerInstances filters share one), under -race.
func TestExpr_ConcurrentUse(t *testing.T) {
	e, err := ParseExpression("attribute:ecs.instance-type =~ m5.* and task:group != service:web")
	if err != nil {
		t.Fatal(err)
	}
	c := inst("a").obj()
	done := make(chan bool)
	for range 8 {
		go func() {
			ok := true
			for range 200 {
				ok = ok && e.Match(&c)
			}
			done <- ok
		}()
	}
	for range 8 {
		if !<-done {
			t.Error("Match = false, want true")
		}
	}
}
