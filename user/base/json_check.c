/*
 * base/json_check.c — a streaming JSON validator (see base/json_check.h).
 *
 * One state per place in the grammar; a stack of one byte per open level says whether a
 * ',' continues an object (a key comes next) or an array (a value comes next). A number
 * has no closing character: it ends at the first byte that cannot continue it, which is
 * then looked at again in the state after the value.
 */
#include "base/json_check.h"

#include <stdbool.h>
#include <string.h>

enum {
	ST_VALUE,          /* a value must come */
	ST_ARRAY_FIRST,    /* after '[': a value or ']' */
	ST_OBJECT_FIRST,   /* after '{': a key or '}' */
	ST_KEY,            /* after ',' in an object: a key */
	ST_COLON,
	ST_AFTER,          /* after a value inside a container: ',' or its closing bracket */
	ST_STRING,
	ST_ESCAPE,
	ST_UNICODE,        /* aux hex digits of \uXXXX seen */
	ST_MINUS,          /* '-': a digit or "Infinity" */
	ST_ZERO,           /* a leading 0: no more integer digits */
	ST_INT,
	ST_DOT,            /* '.': a digit must follow */
	ST_FRACTION,
	ST_EXP,            /* 'e': a sign or a digit */
	ST_EXP_SIGN,       /* a digit must follow */
	ST_EXP_DIGITS,
	ST_LITERAL,        /* matching `literal` from position aux */
	ST_DONE,
};

void json_check_init(struct json_check *jc)
{
	memset(jc, 0, sizeof(*jc));
	jc->state = ST_VALUE;
}

static bool is_ws(char c)
{
	return c == ' ' || c == '\n' || c == '\t' || c == '\r';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* A value has just ended: the whole value at depth 0, else what follows in its container. */
static void value_ended(struct json_check *jc)
{
	jc->state = jc->depth == 0 ? ST_DONE : ST_AFTER;
}

static bool open_level(struct json_check *jc, bool object)
{
	if (jc->depth >= JSON_CHECK_MAX_DEPTH)
		return false;
	jc->in_object[jc->depth++] = object;
	jc->state = object ? ST_OBJECT_FIRST : ST_ARRAY_FIRST;
	return true;
}

static void close_level(struct json_check *jc)
{
	jc->depth--;
	value_ended(jc);
}

static void start_literal(struct json_check *jc, const char *lit)
{
	jc->literal = lit;
	jc->aux = 1; /* its first character was just read */
	jc->state = ST_LITERAL;
}

/* The start of a value: false when `c` cannot start one. */
static bool value_start(struct json_check *jc, char c)
{
	switch (c) {
	case '{':
		return open_level(jc, true);
	case '[':
		return open_level(jc, false);
	case '"':
		jc->key = 0;
		jc->state = ST_STRING;
		return true;
	case '-':
		jc->state = ST_MINUS;
		return true;
	case '0':
		jc->state = ST_ZERO;
		return true;
	case 't':
		start_literal(jc, "true");
		return true;
	case 'f':
		start_literal(jc, "false");
		return true;
	case 'n':
		start_literal(jc, "null");
		return true;
	case 'N':
		start_literal(jc, "NaN");
		return true;
	case 'I':
		start_literal(jc, "Infinity");
		return true;
	default:
		if (c >= '1' && c <= '9') {
			jc->state = ST_INT;
			return true;
		}
		return false;
	}
}

/* One byte. Returns 1 consumed, 0 not consumed (a number ended before it: look again),
 * -1 bad. */
static int step(struct json_check *jc, char c)
{
	switch (jc->state) {
	case ST_VALUE:
		if (is_ws(c))
			return 1;
		return value_start(jc, c) ? 1 : -1;
	case ST_ARRAY_FIRST:
		if (is_ws(c))
			return 1;
		if (c == ']') {
			close_level(jc);
			return 1;
		}
		return value_start(jc, c) ? 1 : -1;
	case ST_OBJECT_FIRST:
	case ST_KEY:
		if (is_ws(c))
			return 1;
		if (c == '}' && jc->state == ST_OBJECT_FIRST) {
			close_level(jc);
			return 1;
		}
		if (c != '"')
			return -1;
		jc->key = 1;
		jc->state = ST_STRING;
		return 1;
	case ST_COLON:
		if (is_ws(c))
			return 1;
		if (c != ':')
			return -1;
		jc->state = ST_VALUE;
		return 1;
	case ST_AFTER:
		if (is_ws(c))
			return 1;
		if (c == ',') {
			jc->state = jc->in_object[jc->depth - 1] ? ST_KEY : ST_VALUE;
			return 1;
		}
		if (c == (jc->in_object[jc->depth - 1] ? '}' : ']')) {
			close_level(jc);
			return 1;
		}
		return -1;
	case ST_STRING:
		if (c == '"') {
			if (jc->key)
				jc->state = ST_COLON;
			else
				value_ended(jc);
		} else if (c == '\\') {
			jc->state = ST_ESCAPE;
		} else if ((unsigned char)c < 0x20) {
			return -1; /* raw control characters: json.load refuses them */
		}
		return 1;
	case ST_ESCAPE:
		if (c == 'u') {
			jc->aux = 0;
			jc->state = ST_UNICODE;
			return 1;
		}
		if (!strchr("\"\\/bfnrt", c) || c == '\0')
			return -1;
		jc->state = ST_STRING;
		return 1;
	case ST_UNICODE:
		if (!is_hex(c))
			return -1;
		if (++jc->aux == 4)
			jc->state = ST_STRING;
		return 1;
	case ST_MINUS:
		if (c == '0') {
			jc->state = ST_ZERO;
			return 1;
		}
		if (c == 'I') {
			start_literal(jc, "Infinity");
			return 1;
		}
		if (!is_digit(c))
			return -1;
		jc->state = ST_INT;
		return 1;
	case ST_INT:
		if (is_digit(c))
			return 1;
		/* fall through */
	case ST_ZERO:
		if (c == '.') {
			jc->state = ST_DOT;
			return 1;
		}
		if (c == 'e' || c == 'E') {
			jc->state = ST_EXP;
			return 1;
		}
		value_ended(jc);
		return 0;
	case ST_DOT:
		if (!is_digit(c))
			return -1;
		jc->state = ST_FRACTION;
		return 1;
	case ST_FRACTION:
		if (is_digit(c))
			return 1;
		if (c == 'e' || c == 'E') {
			jc->state = ST_EXP;
			return 1;
		}
		value_ended(jc);
		return 0;
	case ST_EXP:
		if (c == '+' || c == '-') {
			jc->state = ST_EXP_SIGN;
			return 1;
		}
		/* fall through */
	case ST_EXP_SIGN:
		if (!is_digit(c))
			return -1;
		jc->state = ST_EXP_DIGITS;
		return 1;
	case ST_EXP_DIGITS:
		if (is_digit(c))
			return 1;
		value_ended(jc);
		return 0;
	case ST_LITERAL:
		if (c != jc->literal[jc->aux])
			return -1;
		if (jc->literal[++jc->aux] == '\0')
			value_ended(jc);
		return 1;
	default:
		return -1;
	}
}

enum json_check_result json_check_feed(struct json_check *jc, const char *buf, size_t len, size_t *used)
{
	size_t i = 0;
	while (i < len) {
		if (jc->state == ST_DONE)
			break;
		int r = step(jc, buf[i]);
		if (r < 0) {
			*used = i;
			return JSON_CHECK_BAD;
		}
		i += (size_t)r;
	}
	*used = i;
	return jc->state == ST_DONE ? JSON_CHECK_DONE : JSON_CHECK_MORE;
}

enum json_check_result json_check_end(struct json_check *jc)
{
	if (jc->depth == 0 && (jc->state == ST_ZERO || jc->state == ST_INT || jc->state == ST_FRACTION ||
			       jc->state == ST_EXP_DIGITS))
		jc->state = ST_DONE;
	return jc->state == ST_DONE ? JSON_CHECK_DONE : JSON_CHECK_BAD;
}
