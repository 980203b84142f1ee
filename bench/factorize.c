/* SPDX-License-Identifier: ISC */
/* factorize: a CPU-bound worker for the demo's compute pool and benchmarks.
 * Factorises the numbers from START to START+COUNT-1 by trial division and
 * prints how many primes it met and the work time.
 * Usage: factorize [START [COUNT]] */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static unsigned factorise(uint64_t n) {
	unsigned k = 0;
	for (uint64_t p = 2; p * p <= n; p += (p == 2 ? 1 : 2))
		while (n % p == 0) {
			n /= p;
			k++;
		}
	return k + (n > 1);
}

static int parse_u64(const char *s, uint64_t *ret) {
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-')
		return -1;
	*ret = v;
	return 0;
}

int main(int argc, char **argv) {
	uint64_t start = 1000000000000ULL, count = 2000, primes = 0;
	struct timespec t0, t1;

	if ((argc > 1 && parse_u64(argv[1], &start) < 0) || (argc > 2 && parse_u64(argv[2], &count) < 0) || argc > 3) {
		fprintf(stderr, "usage: factorize [START [COUNT]]\n");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (uint64_t n = start; n < start + count; n++)
		primes += factorise(n) == 1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("factored %" PRIu64 " numbers from %" PRIu64 ": %" PRIu64 " primes in %.3fs\n", count, start, primes,
	       (double) (t1.tv_sec - t0.tv_sec) + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9);
	return 0;
}
