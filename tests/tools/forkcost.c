/*
 * forkcost.c: the machine's floor for a process per run, for the bench:
 * N times, fork a child that exits at once and wait for it, from a
 * process that maps nothing but libc.  What a run of any collector costs
 * at the least, whatever starts it.
 *
 *	forkcost N
 *
 * Prints "cpu_us_per_process=C wall_us_per_process=W": CPU time (user +
 * system, this process's and its children's) and wall time over N.
 */
#define _GNU_SOURCE
#include <sys/resource.h>
#include <sys/wait.h>

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static double
cpu_us(int who)
{
	struct rusage	ru;

	getrusage(who, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
	    ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}

static double
now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

int
main(int argc, char **argv)
{
	double	c0, w0;
	long	n, i;
	pid_t	pid;

	if (argc != 2 || (n = strtol(argv[1], NULL, 10)) <= 0 || n > 1000000) {
		fprintf(stderr, "usage: forkcost N (1 to 1000000)\n");
		return 2;
	}
	c0 = cpu_us(RUSAGE_SELF) + cpu_us(RUSAGE_CHILDREN);
	w0 = now_us();
	for (i = 0; i < n; i++) {
		if ((pid = fork()) == -1) {
			perror("forkcost: fork");
			return 1;
		}
		if (pid == 0)
			_exit(0);
		if (waitpid(pid, NULL, 0) == -1) {
			perror("forkcost: waitpid");
			return 1;
		}
	}
	printf("cpu_us_per_process=%.1f wall_us_per_process=%.1f\n",
	    (cpu_us(RUSAGE_SELF) + cpu_us(RUSAGE_CHILDREN) - c0) / n,
	    (now_us() - w0) / n);
	return 0;
}
