/* SPDX-License-Identifier: ISC */
/* Replies made of job objects or rows, written straight as JSON text. */
#include "commands.h"

void cmd_reply_append_array(struct buf *b, struct job *const *v, size_t n, const enum job_field *columns,
			    size_t n_columns) {
	bool first = true;

	buf_append(b, "[", 1);
	for (size_t i = 0; i < n; i++) {
		if (!v[i])
			continue;
		if (!first)
			buf_append(b, ",", 1);
		if (columns)
			job_json_append_row(b, v[i], columns, n_columns);
		else
			job_json_append(b, v[i], NULL);
		first = false;
	}
	buf_append(b, "]", 1);
}

void cmd_reply_append_jobs(struct buf *b, struct job *const *v, size_t n) {
	buf_appendf(b, ",\"jobs\":");
	cmd_reply_append_array(b, v, n, NULL, 0);
	buf_append(b, "}", 1);
}

void cmd_reply_jobs(struct client *c, struct job *const *v, size_t n) {
	struct buf b = { 0 };
	buf_appendf(&b, "{\"ok\":true");
	cmd_reply_append_jobs(&b, v, n);
	client_reply_text(c, &b);
}
