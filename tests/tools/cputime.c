/*
 * cputime.c: the CPU time a command and its descendants took, to the
 * microsecond (the shell's `times` and time(1) print hundredths).
 *
 *	cputime CMD [ARG...]
 *
 * Runs CMD, waits for it, and prints "user_us=U sys_us=S" on standard
 * error: the user and system time of CMD and of every descendant that
 * was waited for (getrusage(RUSAGE_CHILDREN)).  Exits with CMD's status.
 */
#include <sys/resource.h>
#include <sys/wait.h>

#include <stdio.h>
#include <unistd.h>

int
main(int argc, char *argv[])
{
	struct rusage	ru;
	pid_t		pid;
	int		st;

	if (argc < 2) {
		fprintf(stderr, "usage: cputime CMD [ARG...]\n");
		return 2;
	}
	if ((pid = fork()) == -1) {
		perror("cputime: fork");
		return 1;
	}
	if (pid == 0) {
		execvp(argv[1], argv + 1);
		perror("cputime: exec");
		_exit(127);
	}
	if (waitpid(pid, &st, 0) == -1 || getrusage(RUSAGE_CHILDREN,
	    &ru) == -1) {
		perror("cputime");
		return 1;
	}
	fprintf(stderr, "user_us=%lld sys_us=%lld\n",
	    (long long)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec,
	    (long long)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
