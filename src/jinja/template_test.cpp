// Unit tests of the template language; expected strings are what Python's jinja2 3.1 renders
// under Hugging Face's settings (trim_blocks, lstrip_blocks, ImmutableSandboxedEnvironment).
#include "jinja/template.h"

#include <gtest/gtest.h>

#include "base/error.h"

namespace lokal::jinja {
namespace {

using json = nlohmann::ordered_json;

json ctx() {
    return json::parse(R"({"s": "  Hello World  ", "l": [3, 1, 2], "d": {"b": 2, "a": 1},
        "u": "héllo", "n": null, "f": 1.5,
        "msgs": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]})");
}

std::string R(std::string_view src, const json& c = ctx()) {
    return Template::parse(src).render(c);
}

TEST(JinjaLiterals, PrintLikePython) {
    EXPECT_EQ(R("{{ 1 }} {{ 1.0 }} {{ -0.5 }} {{ 1e100 }} {{ 0.1+0.2 }} {{ 1/3 }} {{ 10/2 }}"),
              "1 1.0 -0.5 1e+100 0.30000000000000004 0.3333333333333333 5.0");
    EXPECT_EQ(R("{{ 1e16 }} {{ 0.0001 }} {{ 0.00001 }} {{ 123456.789e3 }}"),
              "1e+16 0.0001 1e-05 123456789.0");
    EXPECT_EQ(
        R("{{ true }} {{ none }} {{ [1, 'a', none, true, 1.5] }} {{ {'a': [1, {'b': 'c'}]} }}"),
        "True None [1, 'a', None, True, 1.5] {'a': [1, {'b': 'c'}]}");
    EXPECT_EQ(R("{{ (1,) }} {{ () }} {{ (1, 'x') }}"), "(1,) () (1, 'x')");
    EXPECT_EQ(R(R"({{ ["it's", 'say "hi"', "both ' \""] }})"),
              R"(["it's", 'say "hi"', 'both \' "'])");
    EXPECT_EQ(R(R"({{ 'a' 'b' }} {{ "\x41\u00e9\n" }} {{ '\'' }})"), "ab Aé\n '");
}

TEST(JinjaOperators, ArithmeticFollowsPython) {
    EXPECT_EQ(R("{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % -3 }} {{ 7.5 // 2 }} {{ -7.5 % 2 }}"),
              "3 -4 -2 3.0 0.5");
    EXPECT_EQ(R("{{ 2**10 }} {{ -2**2 }} {{ (-2)**2 }} {{ 2**3**2 }} {{ 2**-1 }}"),
              "1024 4 4 64 0.5");
    EXPECT_EQ(R("{{ 'a' ~ 1 ~ none ~ true }}{{ 'x' * 3 }}{{ [1] * 2 }}{{ 3 * 'ab' }}"),
              "a1NoneTruexxx[1, 1]ababab");
    EXPECT_EQ(R("{{ [1] + [2] }} {{ (1,) + (2,) }} {{ \"%s is %d\" % ('x', 3) }}"),
              "[1, 2] (1, 2) x is 3");
    EXPECT_EQ(R("{{ 1 == 1.0 }} {{ true == 1 }} {{ 'a' < 'b' }} {{ [1,2] < [1,3] }}"),
              "True True True True");
    EXPECT_EQ(R("{{ 1 in l }} {{ 5 not in l }} {{ 'ell' in 'hello' }} {{ 'a' in d }} {{ not none "
                "is none }}"),
              "True True True True False");
    EXPECT_EQ(R("{{ 1 if true else 2 }} {{ 1 if false else 2 }} [{{ 1 if false }}]"), "1 2 []");
    EXPECT_EQ(R("{{ 0 or 'x' }} {{ 1 and [] }} {{ none or none }}"), "x [] None");
    EXPECT_THROW(R("{{ 'a' + 1 }}"), Error);
    EXPECT_THROW(R("{{ 1 < 'a' }}"), Error);
    EXPECT_THROW(R("{{ 1 // 0 }}"), Error);
    EXPECT_THROW(R("{{ 9223372036854775807 + 1 }}"), Error);
}

TEST(JinjaWhitespace, TrimAndLstripBlocks) {
    EXPECT_EQ(R("{%- if true -%}  a  {%- endif -%}  b  "), "ab  ");
    EXPECT_EQ(R("  {% if true %}\n    x\n  {% endif %}\n  {{ 'v' }}"), "    x\n  v");
    EXPECT_EQ(R("{# comment #}\nafter"), "after");
    EXPECT_EQ(R("a {%+ if true %}b{% endif %}"), "a b");
    EXPECT_EQ(R("x\n"), "x");  // one trailing newline is dropped
    EXPECT_EQ(R("{{ 'a' }}\n{{- 'b' }}\n{{ 'c' -}}\n  d"), "ab\ncd");
    EXPECT_EQ(R("{% raw %}{{ not rendered }}{% endraw %}"), "{{ not rendered }}");
}

TEST(JinjaStatements, LoopVariables) {
    EXPECT_EQ(R("{% for x in l %}{{ loop.index }}{{ loop.index0 }}{{ loop.first }}{{ loop.last }}"
                "{{ loop.length }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.cycle('a','b') "
                "}}{% endfor %}"),
              "10TrueFalse332a21FalseFalse321b32FalseTrue310a");
    EXPECT_EQ(R("{% for x in l %}{{ loop.previtem }}-{{ loop.nextitem }};{% endfor %}"),
              "-1;3-2;1-;");
    EXPECT_EQ(R("{% for x in [] %}x{% else %}empty{% endfor %}"), "empty");
    EXPECT_EQ(R("{% for x in l if x > 1 %}{{ x }}{{ loop.index }}{% endfor %}"), "3122");
    EXPECT_EQ(R("{% for x in l %}{% if x == 1 %}{% continue %}{% endif %}{{ x }}{% if x == 1 %}{% "
                "break %}"
                "{% endif %}{% endfor %}"),
              "32");
    EXPECT_EQ(R("{% for x in l %}{% if x == 1 %}{% break %}{% endif %}{{ x }}{% endfor %}"), "3");
    EXPECT_EQ(R("{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}{% for k in d %}{{ k }}{% "
                "endfor %}"),
              "b=2;a=1;ba");
    EXPECT_EQ(R("{% for x in [[1,[2]],[3]] recursive %}{% if x is iterable %}[{{ loop(x) }}]{% "
                "else %}{{ x }}"
                "{% endif %}{% endfor %}"),
              "[1[2]][3]");
}

TEST(JinjaStatements, ScopingAndSet) {
    EXPECT_EQ(
        R("{% set x = 1 %}{% for i in range(2) %}{% set x = x + 1 %}{{ x }}{% endfor %}{{ x }}"),
        "221");
    EXPECT_EQ(R("{% if true %}{% set y = 5 %}{% endif %}{{ y }}"), "5");
    EXPECT_EQ(
        R("{% set a, b = 1, 2 %}{{ a }}{{ b }}{% set t = (1, 2) %}{% set c, e = t %}{{ c + e }}"),
        "123");
    EXPECT_EQ(R("{% set x %}block {{ 1 + 1 }}{% endset %}[{{ x }}]{% set y | upper %}up{% endset "
                "%}{{ y }}"),
              "[block 2]UP");
    EXPECT_EQ(R("{% set ns = namespace(items=[]) %}{% for i in range(3) %}{% set ns.items = "
                "ns.items + [i] %}"
                "{% endfor %}{{ ns.items }}"),
              "[0, 1, 2]");
    EXPECT_THROW(R("{% set d.x = 1 %}"), Error);  // only namespaces take attribute assignment
}

TEST(JinjaStatements, MacrosCallAndFilterBlocks) {
    EXPECT_EQ(R("{% macro m(a, b=2) %}{{ a }}-{{ b }}-{{ varargs }}-{{ kwargs }}{% endmacro %}"
                "{{ m(1) }}|{{ m(1, 3, 4, z=5) }}|{{ m(b=7, a=0) }}"),
              "1-2-()-{}|1-3-(4,)-{'z': 5}|0-7-()-{}");
    EXPECT_EQ(R("{% macro w(x) %}[{{ caller(x * 2) }}]{% endmacro %}{% call(v) w(21) %}v={{ v }}{% "
                "endcall %}"),
              "[v=42]");
    EXPECT_EQ(R("{% macro rec(n) %}{% if n > 0 %}{{ n }}{{ rec(n - 1) }}{% endif %}{% endmacro "
                "%}{{ rec(3) }}"),
              "321");
    EXPECT_EQ(R("{% filter upper %}hello {{ 'x' }}{% endfilter %}"), "HELLO X");
    EXPECT_EQ(R("{% generation %}kept{% endgeneration %}"), "kept");
}

TEST(JinjaAccess, AttributesItemsAndUndefined) {
    EXPECT_EQ(R("{{ u|length }} {{ u[1] }} {{ u[1:3] }} {{ u[::-1] }} {{ 'abcdef'[1:5:2] }} {{ "
                "'abcdef'[-2:] }}"
                " {{ l[::-1] }} {{ l[5:] }}"),
              "5 é él olléh bd ef [2, 1, 3] []");
    EXPECT_EQ(R("{{ n.y }}|{{ s.nope }}|{{ l[10] }}|{{ d['zz'] }}|{{ d.zz }}|{{ x }}"), "|||||");
    EXPECT_EQ(R("{{ {'a': 1}.a }} {{ {'items': 1}['items'] }} {{ {1: 'a'}[1] }}"), "1 1 a");
    EXPECT_THROW(R("{{ x.y }}"), Error);
    EXPECT_THROW(R("{{ x() }}"), Error);
    EXPECT_THROW(R("{{ x + 1 }}"), Error);
    EXPECT_EQ(R("{% for i in x %}{{ i }}{% endfor %}{{ x|length }}{{ 'a' in x }}"), "0False");
}

TEST(JinjaMethods, StrListDict) {
    EXPECT_EQ(R("{{ s.strip() }}|{{ s.lstrip() }}|{{ s.rstrip() }}|{{ 'xxhixx'.strip('x') }}"),
              "Hello World|Hello World  |  Hello World|hi");
    EXPECT_EQ(R("{{ 'a,b,,c'.split(',') }} {{ ' a  b '.split() }} {{ 'a b c'.split(' ', 1) }}"
                " {{ 'a,b,c'.rsplit(',', 1) }}"),
              "['a', 'b', '', 'c'] ['a', 'b'] ['a', 'b c'] ['a,b', 'c']");
    EXPECT_EQ(R("{{ 'hello world-foo'.title() }} {{ 'abcabc'.replace('b', 'X', 1) }} {{ "
                "'hello'.find('l') }}"
                " {{ 'hello'.rfind('l') }} {{ 'hello'.count('l') }}"),
              "Hello World-Foo aXcabc 2 3 2");
    EXPECT_EQ(
        R("{{ 'hello'.startswith('he') }} {{ 'hello'.endswith(('x', 'lo')) }} {{ '123'.isdigit() }}"
          " {{ '{} and {}'.format(1, 'b') }}"),
        "True True True 1 and b");
    EXPECT_EQ(R("{{ d.items() | list }} {{ d.keys()|list }} {{ d.get('a') }} {{ d.get('z', 9) }} "
                "{{ d.get('z') }}"
                " {{ l.index(1) }} {{ l.count(3) }}"),
              "[('b', 2), ('a', 1)] ['b', 'a'] 1 9 None 1 1");
    // ImmutableSandboxedEnvironment refuses mutation.
    EXPECT_THROW(R("{{ l.append(4) }}"), Error);
    EXPECT_THROW(R("{{ d.update({'c': 3}) }}"), Error);
    EXPECT_THROW(R("{{ s.__class__() }}"), Error);
}

// Every str/list/dict method once; expected strings are what jinja2 3.1 renders.
TEST(JinjaMethods, EveryMethod) {
    EXPECT_EQ(R("{{ 'a\\nb\\r\\nc\\rd'.splitlines() }} {{ 'a\\nb\\r\\n'.splitlines(True) }} "
                "{{ ''.splitlines() }}"),
              R"(['a', 'b', 'c', 'd'] ['a\n', 'b\r\n'] [])");
    EXPECT_EQ(R("{{ 'aBc'.upper() }} {{ 'aBc'.lower() }} {{ 'hELLO wORLD'.capitalize() }}"),
              "ABC abc Hello world");
    EXPECT_EQ(R("{{ 'hello'.index('l') }} {{ 'hello'.rindex('l') }} {{ 'héllo'.find('l') }} "
                "{{ 'hello'.find('z') }} {{ 'hello'.rfind('z') }}"),
              "2 3 2 -1 -1");
    EXPECT_EQ(R("{{ '-'.join(['a', 'b', 'c']) }} {{ ''.join('xyz') }} {{ 'ab'.count('') }}"),
              "a-b-c xyz 3");
    EXPECT_EQ(R("{{ 'prefix_x'.removeprefix('prefix_') }} {{ 'x.txt'.removesuffix('.txt') }} "
                "{{ 'ab'.removeprefix('abc') }} {{ 'ab'.removesuffix('z') }}"),
              "x x ab ab");
    EXPECT_EQ(R("{{ '12'.isnumeric() }} {{ '12'.isdecimal() }} {{ ''.isdigit() }} "
                "{{ 'ab'.isalpha() }} {{ 'a1'.isalpha() }} {{ 'a1'.isalnum() }} "
                "{{ ' \\t'.isspace() }} {{ 'a '.isspace() }}"),
              "True True False True False True True False");
    EXPECT_EQ(R("{{ 'ab1'.islower() }} {{ 'aB'.islower() }} {{ 'AB1'.isupper() }} "
                "{{ '12'.isupper() }} {{ '12'.islower() }}"),
              "True False True False False");
    EXPECT_EQ(R("{{ '{0}-{1}-{0}'.format('a', 'b') }} {{ '{x}{{}}'.format(x=1) }} "
                "{{ 'hello'.startswith(('x', 'he')) }} {{ 'hello'.endswith('x') }}"),
              "a-b-a 1{} True False");
    EXPECT_EQ(R("{{ d.values()|list }} {{ d.copy() }} {{ l.copy() }} {{ 'a b'.rsplit() }} "
                "{{ 'a,b,c'.split(',', maxsplit=1) }}"),
              "[2, 1] {'b': 2, 'a': 1} [3, 1, 2] ['a', 'b'] ['a', 'b,c']");
    EXPECT_EQ(R("{{ 'xyhixy'.lstrip('xy') }} {{ 'xyhixy'.rstrip('xy') }} "
                "{{ 'abab'.replace('a', 'c') }} {{ 'a'.nope }}|{{ l.nope }}|{{ d.nope }}"),
              "hixy xyhi cbcb ||");
}

std::string error_of(std::string_view src) {
    try {
        R(src);
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

TEST(JinjaMethods, ErrorsKeepTheirMessages) {
    EXPECT_EQ(error_of("{{ 'abc'.index('z') }}"), "ValueError: substring not found");
    EXPECT_EQ(error_of("{{ l.index(9) }}"), "ValueError: 9 is not in list");
    EXPECT_EQ(error_of("{{ ','.join([1]) }}"),
              "TypeError: sequence item: expected str instance, int found");
    EXPECT_EQ(error_of("{{ 'a'.startswith(1) }}"),
              "TypeError: startswith first arg must be str or a tuple of str, not int");
    EXPECT_EQ(error_of("{{ '{'.format() }}"),
              "ValueError: Single '{' encountered in format string");
    EXPECT_EQ(error_of("{{ '}'.format() }}"),
              "ValueError: Single '}' encountered in format string");
    EXPECT_EQ(error_of("{{ '{} {}'.format(1) }}"), "IndexError: Replacement index out of range");
    EXPECT_EQ(error_of("{{ '{y}'.format(x=1) }}"), "KeyError: 'y'");
    EXPECT_EQ(error_of("{{ '{0:>3}'.format(1) }}"),
              "ValueError: format specs are not supported: {0:>3}");
    EXPECT_EQ(error_of("{{ l.append(1) }}"),
              "UndefinedError: access to attribute 'append' of 'list' object is unsafe.");
    EXPECT_EQ(error_of("{{ d.pop('a') }}"),
              "UndefinedError: access to attribute 'pop' of 'dict' object is unsafe.");
    EXPECT_EQ(error_of("{{ l.sort() }}"),
              "UndefinedError: access to attribute 'sort' of 'list' object is unsafe.");
    EXPECT_EQ(error_of("{{ d.clear() }}"),
              "UndefinedError: access to attribute 'clear' of 'dict' object is unsafe.");
    EXPECT_EQ(error_of("{{ 'a'.nope() }}"), "UndefinedError: 'str object' has no attribute 'nope'");
    EXPECT_EQ(error_of("{{ (l|reverse).append(1) }}"),
              "UndefinedError: access to attribute 'append' of 'generator' object is unsafe.");
    EXPECT_EQ(error_of("{{ (l|reverse).count(1) }}"),
              "UndefinedError: 'generator object' has no attribute 'count'");
    EXPECT_EQ(error_of("{{ 'a'._x() }}"),
              "UndefinedError: access to attribute '_x' of 'str' object is unsafe.");
}

TEST(JinjaFilters, Strings) {
    EXPECT_EQ(R("{{ s|trim }}|{{ s|upper }}|{{ 'hello world-foo'|title }}|{{ 'hELLO'|capitalize }}"
                "|{{ 'abc'|replace('', '-') }}|{{ 'abc'|trim('ac') }}"),
              "Hello World|  HELLO WORLD  |Hello World-Foo|Hello|-a-b-c-|b");
    EXPECT_EQ(R("{{ 'a\nb\n\nc'|indent(2) }}|{{ 'a\nb'|indent(2, true) }}|{{ 'a\n\nb'|indent(2, "
                "blank=true) }}"),
              "a\n  b\n\n  c|  a\n  b|a\n  \n  b");
    EXPECT_EQ(R("{{ 'hello world foo'|wordcount }} {{ 'ab'|center(6) }}| {{ '<a href=\"x\">'|e }} "
                "{{ 42|string }}"),
              "3   ab  | &lt;a href=&#34;x&#34;&gt; 42");
    EXPECT_EQ(R("{{ 'ÀÉ ął αβ привет'|upper }} {{ 'ÀÉ'|lower }}"), "ÀÉ ĄŁ ΑΒ ПРИВЕТ àé");
    // Markup concatenation escapes the plain operand (markupsafe).
    EXPECT_EQ(R("{{ 'x'|safe + '<y>' }} {{ '<y>' + 'x'|safe }} {{ '<y>' ~ 'x'|safe }}"),
              "x&lt;y&gt; &lt;y&gt;x <y>x");
}

TEST(JinjaFilters, Sequences) {
    EXPECT_EQ(R("{{ l|length }} {{ l|first }} {{ l|last }} {{ l|sort }} {{ l|sort(reverse=true) }} "
                "{{ l|min }}"
                " {{ l|max }} {{ l|sum }} {{ l|join('-') }} {{ l|reverse|list }}"),
              "3 3 2 [1, 2, 3] [3, 2, 1] 1 3 6 3-1-2 [2, 1, 3]");
    EXPECT_EQ(R("{{ d|dictsort }} {{ d|items|list }} {{ d|length }}"),
              "[('a', 1), ('b', 2)] [('b', 2), ('a', 1)] 2");
    EXPECT_EQ(R("{{ msgs|selectattr('role', 'equalto', 'user')|list }} "
                "{{ msgs|rejectattr('role', 'eq', 'user')|map(attribute='content')|list }}"),
              "[{'role': 'user', 'content': 'hi'}] ['yo']");
    EXPECT_EQ(R("{{ [1,2,3,4]|select('odd')|list }} {{ [0,1,'',none,'a']|select|list }} {{ "
                "['a','b']|map('upper')|list }}"),
              "[1, 3] [1, 'a'] ['A', 'B']");
    EXPECT_EQ(R("{{ ['A','a','b']|unique|list }} {{ [1,2,3,4,5]|batch(2)|list }} {{ "
                "[1,2,3,4,5]|slice(2)|list }}"),
              "['A', 'b'] [[1, 2], [3, 4], [5]] [[1, 2, 3], [4, 5]]");
    EXPECT_EQ(R("{{ msgs | map(attribute='zz', default='?') | list }} {{ 'abc'|list }}"),
              "['?', '?'] ['a', 'b', 'c']");
    EXPECT_EQ(R("{{ none|selectattr('x')|list }}"), "[]");  // jinja2 skips falsy sequences
    EXPECT_THROW(R("{{ msgs|map(attribute='role')|length }}"), Error);  // generators have no len()
}

TEST(JinjaFilters, NumbersAndDefaults) {
    EXPECT_EQ(R("{{ '42'|int }} {{ '4.7'|int }} {{ 'x'|int }} {{ 'x'|int(5) }} {{ 4.7|int }} {{ "
                "'3.5'|float }}"
                " {{ 3|float }}"),
              "42 4 0 5 4 3.5 3.0");
    EXPECT_EQ(R("{{ 2.5|round }} {{ 3.5|round }} {{ 3.14159|round(2) }} {{ -3|abs }} {{ "
                "15|round(-1) }} {{ 3|round }}"),
              "2.0 4.0 3.14 3 20 3");
    EXPECT_EQ(R("{{ x|default('dflt') }} {{ ''|default('e', true) }} {{ none|default('n') }} {{ "
                "x|d('y') }}"),
              "dflt e None y");
}

TEST(JinjaFilters, ToJsonMatchesPythonJsonDumps) {
    EXPECT_EQ(R("{{ d|tojson }} {{ d|tojson(sort_keys=true) }} {{ u|tojson }} {{ "
                "u|tojson(ensure_ascii=true) }}"),
              "{\"b\": 2, \"a\": 1} {\"a\": 1, \"b\": 2} \"héllo\" \"h\\u00e9llo\"");
    EXPECT_EQ(
        R("{{ {'a':1, 'b':{'c':[1,2]}, 'e': []}|tojson(indent=2) }}"),
        "{\n  \"a\": 1,\n  \"b\": {\n    \"c\": [\n      1,\n      2\n    ]\n  },\n  \"e\": []\n}");
    EXPECT_EQ(R("{{ [{'b':1,'a':2}]|tojson(separators=(',', ':')) }} {{ [1.0, 2.5e-7, 1e22, none, "
                "true]|tojson }}"),
              "[{\"b\":1,\"a\":2}] [1.0, 2.5e-07, 1e+22, null, true]");
    EXPECT_EQ(R("{{ \"a\\tb\\u0001\\\"\"|tojson }} {{ '😀'|tojson(ensure_ascii=true) }}"),
              "\"a\\tb\\u0001\\\"\" \"\\ud83d\\ude00\"");
    EXPECT_THROW(R("{{ x|tojson }}"), Error);
    EXPECT_THROW(R("{{ l|map('string')|tojson }}"), Error);  // generators are not serializable
}

TEST(JinjaTests, Builtins) {
    EXPECT_EQ(R("{{ x is defined }} {{ l is defined }} {{ n is none }} {{ s is string }} {{ 1 is "
                "number }}"
                " {{ 1.5 is float }} {{ 1 is integer }} {{ true is boolean }} {{ d is mapping }}"
                " {{ l is sequence }} {{ l is iterable }}"),
              "False True True True True True True True True True True");
    EXPECT_EQ(
        R("{{ 3 is odd }} {{ 4 is even }} {{ 9 is divisibleby 3 }} {{ 1 is eq 1 }} {{ 1 is ne 2 }}"
          " {{ 1 is lt 2 }} {{ 1 is in l }} {{ d is callable }} {{ true is true }} {{ 0 is false }}"
          " {{ x is undefined }} {{ s is not string }} {{ 'x' is equalto 'x' }}"),
        "True True True True True True True False True False True False True");
    EXPECT_THROW(R("{{ 1 is nosuchtest }}"), Error);
    EXPECT_THROW(R("{{ 1|nosuchfilter }}"), Error);
    EXPECT_EQ(R("{% if false %}{{ 1|nosuchfilter }}{% endif %}ok"),
              "ok");  // checked when evaluated
}

TEST(JinjaGlobals, RangeNamespaceRaiseStrftime) {
    EXPECT_EQ(R("{{ range(5)|list }} {{ range(1, 10, 3)|list }} {{ range(5, 0, -2)|list }}"),
              "[0, 1, 2, 3, 4] [1, 4, 7] [5, 3, 1]");
    EXPECT_EQ(R("{{ dict(a=1, b=2) }} {{ namespace(a=1).a }}"), "{'a': 1, 'b': 2} 1");
    try {
        R("{{ raise_exception('bad role') }}");
        FAIL() << "expected an exception";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("bad role"), std::string::npos);
    }
    RenderOptions opt;
    opt.now = [] {
        std::tm tm{};
        tm.tm_year = 126;
        tm.tm_mon = 0;
        tm.tm_mday = 15;
        tm.tm_wday = 4;
        return tm;
    };
    EXPECT_EQ(Template::parse("{{ strftime_now('%d %B %Y, %A') }}").render(json::object(), opt),
              "15 January 2026, Thursday");
}

TEST(JinjaSyntax, ErrorsNameTheLine) {
    for (const char* bad :
         {"{% if x %}", "{{ 1 + }}", "{% for %}", "{{ 'abc }}", "line1\n{% endfor %}",
          "{% include 'x' %}", "{{ a b }}", "{% macro m( %}{% endmacro %}"}) {
        EXPECT_THROW(Template::parse(bad), Error) << bad;
    }
    try {
        Template::parse("a\nb\n{{ 1 + }}");
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("line 3"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace lokal::jinja
