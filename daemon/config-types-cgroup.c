/* SPDX-License-Identifier: ISC */
/* The value types of the cgroup keys (SPEC §8): [supd] cgroup and the
 * limits of a run's cgroup (sizes, counts, cpu_max, weights, oom_policy). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "config-types.h"

#define KIB ((uint64_t) 1024)
#define WEIGHT_MIN 1
#define WEIGHT_MAX 10000
/* cpu_max: 1% (the kernel's smallest quota, 1ms of each 100ms period) up
 * to 10,000 CPUs */
#define CPU_PERIOD_USEC 100000
#define CPU_QUOTA_MIN 1000
#define CPU_PERCENT_MAX 1000000

/* ---- [supd] cgroup = auto | off | PATH ---- */

static void parse_cgroup_mode(struct key_host *h, const struct key_desc *k, void *base,
			      const char *value, _unused_ bool cont)
{
	struct supd_config *c = base;

	free(c->cgroup_path);
	c->cgroup_path = NULL;
	if (strcmp(value, "auto") == 0) {
		c->cgroup_mode = CGROUP_MODE_AUTO;
	} else if (strcmp(value, "off") == 0) {
		c->cgroup_mode = CGROUP_MODE_OFF;
		/* said once, where it is decided (supd --check prints it) */
		config_type_warning(h, "cgroup = off: a process that leaves its run's process group (setsid, "
				    "a double fork) is not contained: it outlives its run, stop and supd, and its CPU "
				    "time is not counted");
	} else if (value[0] == '/') {
		c->cgroup_mode = CGROUP_MODE_PATH;
		c->cgroup_path = xstrdup(value);
	} else {
		config_type_error(h, "invalid value for %s: %s (expected auto, off or an absolute path)", k->name, value);
	}
}

static bool equal_cgroup_mode(_unused_ const struct key_desc *k, const void *a, const void *b)
{
	const struct supd_config *x = a, *y = b;

	return x->cgroup_mode == y->cgroup_mode && streq_ptr(x->cgroup_path, y->cgroup_path);
}

static void dump_cgroup_mode(const struct key_desc *k, const void *base, FILE *out)
{
	const struct supd_config *c = base;

	fprintf(out, "%s = %s\n", k->name, c->cgroup_mode == CGROUP_MODE_PATH ? c->cgroup_path
					   : c->cgroup_mode == CGROUP_MODE_OFF ? "off" : "auto");
}

const struct key_type config_type_cgroup_mode = { parse_cgroup_mode, equal_cgroup_mode, dump_cgroup_mode };

/* ---- sizes, counts and weights ---- */

/* Decimal digits, and for sizes one of K, M, G, T (powers of 1024). */
static int parse_number(const char *s, bool size, uint64_t *ret)
{
	return config_parse_scaled(s, strlen(s), size ? "KMGT" : "", CGROUP_VALUE_MAX, ret);
}

static void parse_limit_value(struct key_host *h, const struct key_desc *k, void *base, const char *value,
			      bool size, uint64_t min)
{
	struct cgroup_value *cv = FIELD(struct cgroup_value, k, base);
	uint64_t v;
	int r;

	if (strcmp(value, "infinity") == 0) {
		*cv = (struct cgroup_value) { .set = true, .v = CGROUP_VALUE_MAX };
		return;
	}
	r = parse_number(value, size, &v);
	if (r == -ERANGE || (r == 0 && v < min)) {
		config_type_error(h, "value out of range for %s: %s%s", k->name, value, min ? " (at least 1)" : "");
		return;
	}
	if (r < 0) {
		config_type_error(h, "invalid value for %s: %s (expected N%s or infinity)", k->name, value,
				  size ? " with K, M, G or T" : "");
		return;
	}
	*cv = (struct cgroup_value) { .set = true, .v = v };
}

static void parse_bytes(struct key_host *h, const struct key_desc *k, void *base, const char *value,
			_unused_ bool cont)
{
	parse_limit_value(h, k, base, value, true, 0);
}

static void parse_count(struct key_host *h, const struct key_desc *k, void *base, const char *value,
			_unused_ bool cont)
{
	parse_limit_value(h, k, base, value, false, 1);
}

static bool equal_value(const struct key_desc *k, const void *a, const void *b)
{
	const struct cgroup_value *x = CFIELD(struct cgroup_value, k, a), *y = CFIELD(struct cgroup_value, k, b);

	return x->set == y->set && (!x->set || x->v == y->v);
}

/* In the largest unit that divides it: 512M, 1536K, 100. */
static void dump_value(const struct key_desc *k, const void *base, FILE *out, bool size)
{
	const struct cgroup_value *cv = CFIELD(struct cgroup_value, k, base);
	uint64_t div = KIB * KIB * KIB * KIB;

	if (!cv->set)
		return;
	if (cv->v == CGROUP_VALUE_MAX) {
		fprintf(out, "%s = infinity\n", k->name);
		return;
	}
	for (const char *u = "TGMK"; size && cv->v > 0 && *u; u++, div /= KIB)
		if (cv->v % div == 0) {
			fprintf(out, "%s = %llu%c\n", k->name, (unsigned long long) (cv->v / div), *u);
			return;
		}
	fprintf(out, "%s = %llu\n", k->name, (unsigned long long) cv->v);
}

static void dump_bytes(const struct key_desc *k, const void *base, FILE *out)
{
	dump_value(k, base, out, true);
}

static void dump_count(const struct key_desc *k, const void *base, FILE *out)
{
	dump_value(k, base, out, false);
}

const struct key_type config_type_cgroup_bytes = { parse_bytes, equal_value, dump_bytes };
const struct key_type config_type_cgroup_count = { parse_count, equal_value, dump_count };

static void parse_weight(struct key_host *h, const struct key_desc *k, void *base, const char *value,
			 _unused_ bool cont)
{
	struct cgroup_value *cv = FIELD(struct cgroup_value, k, base);
	uint64_t v;

	if (parse_number(value, false, &v) < 0 || v < WEIGHT_MIN || v > WEIGHT_MAX) {
		config_type_error(h, "invalid value for %s: %s (expected %d..%d)", k->name, value, WEIGHT_MIN, WEIGHT_MAX);
		return;
	}
	*cv = (struct cgroup_value) { .set = true, .v = v };
}

const struct key_type config_type_cgroup_weight = { parse_weight, equal_value, dump_count };

/* ---- cpu_max = N% | infinity ---- */

int config_parse_cpu_max(const char *s, uint64_t *quota_usec)
{
	uint64_t whole = 0, milli = 0;
	int frac_digits = 0;
	bool round_up = false;
	const char *p = s;

	if (strcmp(s, "infinity") == 0) {
		*quota_usec = CGROUP_VALUE_MAX;
		return 0;
	}
	/* digits, at most one '.' followed by digits, then '%': no sign,
	 * exponent or blank (strtod would take them) */
	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		whole = whole * 10 + (uint64_t) (*p - '0');
		if (whole > CPU_PERCENT_MAX)
			return -ERANGE;
	}
	if (*p == '.') {
		if (p[1] < '0' || p[1] > '9')
			return -EINVAL;
		for (p++; *p >= '0' && *p <= '9'; p++, frac_digits++) {
			if (frac_digits < 3)
				milli = milli * 10 + (uint64_t) (*p - '0');
			else if (frac_digits == 3)
				round_up = *p >= '5';
		}
		for (int i = frac_digits; i < 3; i++)
			milli *= 10;
	}
	if (strcmp(p, "%") != 0)
		return -EINVAL;
	/* 1% of a CPU is 1000us of each 100ms period */
	uint64_t q = whole * (CPU_PERIOD_USEC / 100) + milli + (round_up ? 1 : 0);
	if (q < CPU_QUOTA_MIN || q > (uint64_t) CPU_PERCENT_MAX * (CPU_PERIOD_USEC / 100))
		return -ERANGE;
	*quota_usec = q;
	return 0;
}

static void parse_cpu_max(struct key_host *h, const struct key_desc *k, void *base, const char *value,
			  _unused_ bool cont)
{
	struct cgroup_value *cv = FIELD(struct cgroup_value, k, base);
	uint64_t q;
	int r = config_parse_cpu_max(value, &q);

	if (r == -ERANGE)
		config_type_error(h, "value out of range for %s: %s (1%% to %d%%)", k->name, value, CPU_PERCENT_MAX);
	else if (r < 0)
		config_type_error(h, "invalid value for %s: %s (expected a percentage of one CPU, such as 150%%, "
				  "or infinity)", k->name, value);
	else
		*cv = (struct cgroup_value) { .set = true, .v = q };
}

/* The quota in us per 100ms as a percentage: 150000 -> 150%, 12345 -> 12.345%. */
static void dump_cpu_max(const struct key_desc *k, const void *base, FILE *out)
{
	const struct cgroup_value *cv = CFIELD(struct cgroup_value, k, base);
	const uint64_t per_pct = CPU_PERIOD_USEC / 100;

	if (!cv->set)
		return;
	if (cv->v == CGROUP_VALUE_MAX) {
		fprintf(out, "%s = infinity\n", k->name);
		return;
	}
	char frac[8];
	int digits = 3;
	uint64_t rest = cv->v % per_pct;
	(void) snprintf(frac, sizeof(frac), "%03llu", (unsigned long long) rest);
	while (digits > 0 && frac[digits - 1] == '0')
		frac[--digits] = '\0';
	fprintf(out, "%s = %llu%s%s%%\n", k->name, (unsigned long long) (cv->v / per_pct), digits ? "." : "",
		digits ? frac : "");
}

const struct key_type config_type_cpu_max = { parse_cpu_max, equal_value, dump_cpu_max };

/* ---- oom_policy = continue | stop | kill ---- */

static void parse_oom_policy(struct key_host *h, const struct key_desc *k, void *base, const char *value,
			     _unused_ bool cont)
{
	int p = oom_policy_from_string(value);

	if (p < 0)
		config_type_error(h, "invalid value for %s: %s (expected continue, stop or kill)", k->name, value);
	else
		*FIELD(enum oom_policy, k, base) = (enum oom_policy) p;
}

static bool equal_oom_policy(const struct key_desc *k, const void *a, const void *b)
{
	return *CFIELD(enum oom_policy, k, a) == *CFIELD(enum oom_policy, k, b);
}

static void dump_oom_policy(const struct key_desc *k, const void *base, FILE *out)
{
	fprintf(out, "%s = %s\n", k->name, oom_policy_to_string(*CFIELD(enum oom_policy, k, base)));
}

const struct key_type config_type_oom_policy = { parse_oom_policy, equal_oom_policy, dump_oom_policy };
