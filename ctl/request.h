/* SPDX-License-Identifier: ISC */
/* Building requests (doc/protocol.md) and reading the parts of answers. */
#pragma once

#include <jansson.h>
#include <stddef.h>

struct ctl_args;

/* {"cmd": cmd} */
json_t *request_new(const char *cmd);
/* Sets req's key to value, taking the reference. */
void request_set(json_t *req, const char *key, json_t *value);
/* Adds operands from..argc as the request's "jobs". Returns 0 or EXIT_USAGE. */
int request_set_jobs(json_t *req, const struct ctl_args *a, int from);
/* Parses -n N into the request's "lines", if given. Returns 0 or EXIT_USAGE. */
int request_set_lines(json_t *req, const struct ctl_args *a);
/* Bytes of a JSON value as a request carries it (proto_dump_line():
 * compact, non-ASCII escaped as \uXXXX). */
size_t request_encoded_size(const json_t *v);
/* Bytes of the line that carries req (with its newline). */
size_t request_size(const json_t *req);
/* The array `key` of an answer, or NULL after reporting its absence. */
json_t *request_answer_array(const json_t *resp, const char *key);
