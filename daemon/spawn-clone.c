/* SPDX-License-Identifier: ISC */
/* clone3(CLONE_INTO_CGROUP) with a stack of our own (see spawn-clone.h). */
#include <errno.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include "log.h"
#include "spawn-clone.h"

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

/* struct clone_args up to cgroup (CLONE_ARGS_SIZE_VER2), spelled out:
 * older kernel headers lack the field */
struct clone3_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size,
		cgroup;
};

#if defined(__x86_64__)
#define HAVE_CLONE3_CALL 1
/* long clone3_call(struct clone3_args *args, size_t size, int (*fn)(void *), void *arg):
 * the child starts at the instruction after syscall with rsp = the new
 * stack and every other register as the parent had it (rax = 0); it
 * calls fn(arg) there and exits with its value. rcx and r11 are the
 * syscall's, so arg travels in r8 (fn stays in rdx). */
long clone3_call(struct clone3_args *args, size_t size, int (*fn)(void *), void *arg);
__asm__(
	".pushsection .text\n"
	".p2align 4\n"
	".type clone3_call, @function\n"
	"clone3_call:\n"
	"	mov %rcx, %r8\n"
	"	mov $435, %eax\n"          /* __NR_clone3 */
	"	syscall\n"
	"	test %rax, %rax\n"
	"	jz 1f\n"
	"	ret\n"                     /* the parent: the pid or -errno */
	"1:	xor %ebp, %ebp\n"          /* the child: the outermost frame */
	"	and $-16, %rsp\n"
	"	mov %r8, %rdi\n"
	"	call *%rdx\n"
	"	mov %eax, %edi\n"
	"	mov $60, %eax\n"           /* __NR_exit */
	"	syscall\n"
	"	hlt\n"
	".size clone3_call, .-clone3_call\n"
	".popsection\n");
#else
#define HAVE_CLONE3_CALL 0
#endif

/* clone3 with CLONE_INTO_CGROUP: unknown (-1), works (1), missing (0). */
static int have_clone3 = HAVE_CLONE3_CALL ? -1 : 0;

bool spawn_clone_into_proven(void) {
	return have_clone3 == 1;
}

void spawn_clone_into_disable(void) {
	have_clone3 = 0;
}

pid_t spawn_clone_into(int (*fn)(void *), void *arg, void *stack, size_t stack_size, unsigned long flags,
		       int cgroup_fd, bool *placed) {
#if HAVE_CLONE3_CALL
	if (have_clone3 != 0) {
		struct clone3_args a = {
			.flags = (flags & ~(unsigned long) CSIGNAL) | CLONE_INTO_CGROUP,
			.exit_signal = flags & CSIGNAL,
			.stack = (uint64_t) (uintptr_t) stack,
			.stack_size = stack_size,
			.cgroup = (uint64_t) cgroup_fd,
		};
		*placed = true;
		long r = clone3_call(&a, sizeof(a), fn, arg);
		if (r > 0) {
			have_clone3 = 1;
			return (pid_t) r;
		}
		/* no clone3 (before 5.3, or valgrind), or no CLONE_INTO_CGROUP
		 * (5.3 to 5.6: EINVAL, or E2BIG for the larger struct): the
		 * child places itself from now on. Other errors are the placing's. */
		if (!(r == -ENOSYS || r == -E2BIG || (r == -EINVAL && have_clone3 < 0)))
			return (pid_t) r;
		have_clone3 = 0;
		log_info("clone3(CLONE_INTO_CGROUP): %s; each run's processes enter their cgroup themselves",
			 strerror((int) -r));
	}
#else
	(void) cgroup_fd;
#endif
	*placed = false;
	pid_t pid = clone(fn, (char *) stack + stack_size, (int) flags, arg);
	return pid < 0 ? -errno : pid;
}
