/* SPDX-License-Identifier: ISC */
/* The normalised configuration: every setting of [supd] and of each job,
 * defaults spelled out, one value a line, in the order of the key table.
 * Each value is printed by its key's row, so the dump parses back to an
 * equal configuration (golden tests, supd --check --verbose). */
#include "config-keys.h"

static void dump_section(const struct key_table *t, const void *base, FILE *out)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct key_desc *k = &t->keys[i];

		if (k->type->dump && (!k->applies || k->applies(base)))
			k->type->dump(k, base, out);
	}
}

void config_dump(const struct supd_config *c, FILE *out)
{
	fputs("[supd]\n", out);
	dump_section(&config_keys_supd, c, out);
	for (size_t i = 0; i < c->n_jobs; i++) {
		const struct job_config *jc = c->jobs[i];

		fprintf(out, "\n[job:%s%s]\n", jc->name, jc->is_template ? "@" : "");
		fprintf(out, "; defined at %s:%u\n", jc->file, jc->line);
		dump_section(&config_keys_job, jc, out);
	}
}
